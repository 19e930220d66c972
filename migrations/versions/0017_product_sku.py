"""products: an optional code (SKU) of the member's own, unique per member

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-25 06:10:00

Product.sku: NULL for every existing product (several NULLs never clash); a spreadsheet import matches
its rows on it (catalog/bulk_import.py). A unique index, not a table constraint: SQLite adds and drops
both the column and the index in place, without recreating `products` (which other tables refer to).
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('products', sa.Column('sku', sa.String(length=64), nullable=True))
    op.create_index('uq_products_member_sku', 'products', ['member_id', 'sku'], unique=True)


def downgrade():
    op.drop_index('uq_products_member_sku', table_name='products')
    op.drop_column('products', 'sku')
