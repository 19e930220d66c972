"""products: an optional code (SKU) of the member's own, unique per member

Revision ID: 0017
Revises: 0011
Create Date: 2026-11-25 06:10:00

Product.sku: NULL for every existing product (several NULLs never clash); a spreadsheet import matches
its rows on it (catalog/bulk_import.py).
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sku', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_products_member_sku', ['member_id', 'sku'])


def downgrade():
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_constraint('uq_products_member_sku', type_='unique')
        batch_op.drop_column('sku')
