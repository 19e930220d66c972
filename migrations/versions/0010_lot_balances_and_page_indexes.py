"""Per-lot stock balance (consignment_lots.on_hand) and the indexes listing pages need

`on_hand` is SUM(stock_movements.quantity) of the lot, kept by consignment.services.append_movement in the
same transaction as each movement; this migration fills it from the ledger. `flask check-ledger` proves
they agree. Indexes: sale_lines.sale_id (receipts, recent sales, transparency), products
(status, published_at, id) for the newest products, lots (received_at, id) for the gerai's lot list.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 04:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    big_int = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    with op.batch_alter_table('consignment_lots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('on_hand', big_int, server_default='0', nullable=False))
        batch_op.create_index('ix_consignment_lots_received', ['received_at', 'id'], unique=False)
    op.execute("UPDATE consignment_lots SET on_hand = COALESCE((SELECT SUM(m.quantity) FROM stock_movements m "
               "WHERE m.lot_id = consignment_lots.id), 0)")
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.create_index('ix_products_status_published', ['status', 'published_at', 'id'], unique=False)
    with op.batch_alter_table('sale_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sale_lines_sale_id'), ['sale_id'], unique=False)


def downgrade():
    with op.batch_alter_table('sale_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sale_lines_sale_id'))
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_index('ix_products_status_published')
    with op.batch_alter_table('consignment_lots', schema=None) as batch_op:
        batch_op.drop_index('ix_consignment_lots_received')
    # A plain DROP COLUMN (SQLite >= 3.35): batch mode would copy the table, which other tables reference.
    op.drop_column('consignment_lots', 'on_hand')
