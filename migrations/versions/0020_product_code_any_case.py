"""products: a member's product code is unique in any letter case

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 13:30:00

The product form and the import treat `KRP-250` and `krp-250` as the same code (the import matches rows on
it without regard to case), so the database refuses both for one member: a unique index on
(member_id, lower(sku)) replaces the one on (member_id, sku), and two saves racing with the same code in two
spellings can no longer both win. Codes could only be set by an import, which already refused a second
spelling, so no existing rows should clash; any that do keep their code with the product's id appended
(`KRP-250-17`), so the upgrade cannot fail and no code is lost.
"""
from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.execute(sa.text(
        "UPDATE products SET sku = sku || '-' || CAST(id AS VARCHAR(20)) "
        "WHERE sku IS NOT NULL AND EXISTS (SELECT 1 FROM products AS earlier WHERE earlier.member_id = products.member_id "
        "AND lower(earlier.sku) = lower(products.sku) AND earlier.id < products.id)"))
    op.create_index('uq_products_member_sku_ci', 'products', ['member_id', sa.text('lower(sku)')], unique=True)
    op.drop_index('uq_products_member_sku', table_name='products')


def downgrade():
    op.create_index('uq_products_member_sku', 'products', ['member_id', 'sku'], unique=True)
    op.drop_index('uq_products_member_sku_ci', table_name='products')
