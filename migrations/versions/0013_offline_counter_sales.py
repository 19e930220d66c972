"""offline counter sales: stock discrepancies of lots sold below zero while offline

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-25 06:20:00

An offline sale is recorded exactly once through the one-time keys table (its client UUID is the key);
a lot it sold below zero gets a StockDiscrepancy row for pengurus to resolve.
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    big_int = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')  # BIGINT on PostgreSQL, as every id since 0009
    op.create_table(
        'stock_discrepancies',
        sa.Column('id', big_int, nullable=False),
        sa.Column('lot_id', big_int, nullable=False),
        sa.Column('sale_id', big_int, nullable=False),
        sa.Column('quantity', big_int, nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('resolved_at', sa.DateTime(), nullable=True),
        sa.Column('resolved_by_id', big_int, nullable=True),
        sa.Column('resolution_movement_id', big_int, nullable=True),
        sa.Column('resolution_note', sa.Text(), nullable=False),
        sa.CheckConstraint('quantity > 0', name=op.f('ck_stock_discrepancies_quantity_positive')),
        sa.ForeignKeyConstraint(['lot_id'], ['consignment_lots.id'], name=op.f('fk_stock_discrepancies_lot_id_consignment_lots')),
        sa.ForeignKeyConstraint(['sale_id'], ['sales.id'], name=op.f('fk_stock_discrepancies_sale_id_sales')),
        sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_stock_discrepancies_resolved_by_id_users')),
        sa.ForeignKeyConstraint(['resolution_movement_id'], ['stock_movements.id'],
                                name=op.f('fk_stock_discrepancies_resolution_movement_id_stock_movements')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_discrepancies')),
        sa.UniqueConstraint('sale_id', 'lot_id', name='uq_stock_discrepancies_sale_lot'),
    )
    with op.batch_alter_table('stock_discrepancies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_discrepancies_lot_id'), ['lot_id'], unique=False)
        batch_op.create_index('ix_stock_discrepancies_open', ['resolved_at', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('stock_discrepancies', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_discrepancies_open')
        batch_op.drop_index(batch_op.f('ix_stock_discrepancies_lot_id'))
    op.drop_table('stock_discrepancies')
