"""indexes for pages that must not grow with history (the counter's orders, the stock report)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 01:40:00

- orders (payment_method, status, id): the POS lists the open pay-at-gerai orders; without it every
  order ever placed was scanned (4 ms at 40,000 orders, on every POS page).
- orders (status, id): the staff's list of open orders, newest first (it too walked every order).
- products (updated_at, id): the pengurus's list of every product, last changed first (it sorted them all).
- consignment_lots (member_id, on_hand, product_id, unit_price): the stock report pages through members
  with stock (an EXISTS per member) and sums their lots with stock from the index alone (11 → 4 ms at
  1,250 members).
- products (status, name): the counter and the intake find drafts by name, in name order, and stop after 20
  (PostgreSQL: 5 → 1.5 ms at 2,500 drafts).
- members (business_name, id): the stock report pages through members with stock in name order and stops
  after the page (PostgreSQL checked every member: 7.8 → 0.3 ms at 1,250 members).
- payout_payments (paid_at): /transparansi sums the year's payments to members (it read every payment).
- consignment_lots (on_hand) WHERE on_hand < 0: the few lots an offline sale took below zero, which the
  counter checks open orders against on every POS page (a scan of every lot: 9 ms at 250,000 lots).
"""
import sqlalchemy as sa
from alembic import op


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_orders_method_status', 'orders', ['payment_method', 'status', 'id'])
    op.create_index('ix_orders_status_id', 'orders', ['status', 'id'])
    op.create_index('ix_products_updated', 'products', ['updated_at', 'id'])
    op.create_index('ix_payout_payments_paid_at', 'payout_payments', ['paid_at'])
    op.create_index('ix_products_status_name', 'products', ['status', 'name'])
    op.create_index('ix_members_business_name', 'members', ['business_name', 'id'])
    op.create_index('ix_consignment_lots_member_on_hand', 'consignment_lots',
                    ['member_id', 'on_hand', 'product_id', 'unit_price'])
    op.create_index('ix_consignment_lots_below_zero', 'consignment_lots', ['on_hand'],
                    sqlite_where=sa.text('on_hand < 0'), postgresql_where=sa.text('on_hand < 0'))


def downgrade():
    op.drop_index('ix_consignment_lots_below_zero', table_name='consignment_lots')
    op.drop_index('ix_consignment_lots_member_on_hand', table_name='consignment_lots')
    op.drop_index('ix_members_business_name', table_name='members')
    op.drop_index('ix_products_status_name', table_name='products')
    op.drop_index('ix_payout_payments_paid_at', table_name='payout_payments')
    op.drop_index('ix_products_updated', table_name='products')
    op.drop_index('ix_orders_status_id', table_name='orders')
    op.drop_index('ix_orders_method_status', table_name='orders')
