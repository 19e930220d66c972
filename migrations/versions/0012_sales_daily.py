"""Sales per local day (sales_daily), kept with each sale and void, filled here from the sale lines

Rows at three grains — (day, member, product), (day, member, 0) and (day, 0, 0) — with units, gross,
commission and line count of the non-voided sale lines of that local day (the cooperative's time zone).
consignment.daily keeps them in the same transaction as each sale and void; `flask check-ledger` proves
they equal the sale lines. payouts.line_count: the number of sale lines a statement settled (open drafts
subtract the settled figures from the daily ones instead of reading every unsettled line).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25 06:30:00
"""
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def _zone_offset_minutes(bind) -> int:
    """Minutes to add to a naive-UTC timestamp to get the cooperative's local time."""
    from flask import current_app, has_app_context

    zone = bind.execute(sa.text("SELECT time_zone FROM cooperatives ORDER BY id LIMIT 1")).scalar() or ""
    if not zone and has_app_context():
        zone = current_app.config.get("BABEL_DEFAULT_TIMEZONE") or ""
    local = datetime.combine(date(2000, 1, 1), time.min, tzinfo=ZoneInfo(zone or "Asia/Jakarta"))
    return round(local.utcoffset().total_seconds() / 60)


def upgrade():
    big_int = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table('sales_daily',
                    sa.Column('day', sa.Date(), nullable=False),
                    sa.Column('member_id', big_int, autoincrement=False, nullable=False),
                    sa.Column('product_id', big_int, autoincrement=False, nullable=False),
                    sa.Column('units', big_int, nullable=False),
                    sa.Column('gross', big_int, nullable=False),
                    sa.Column('commission', big_int, nullable=False),
                    sa.Column('lines', big_int, nullable=False),
                    sa.PrimaryKeyConstraint('day', 'member_id', 'product_id', name=op.f('pk_sales_daily')))
    with op.batch_alter_table('sales_daily', schema=None) as batch_op:
        batch_op.create_index('ix_sales_daily_member_product_day', ['member_id', 'product_id', 'day'], unique=False)

    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('line_count', big_int, server_default='0', nullable=False))
    op.execute("UPDATE payouts SET line_count = (SELECT COUNT(*) FROM payout_lines l WHERE l.payout_id = payouts.id)")

    bind = op.get_bind()
    minutes = _zone_offset_minutes(bind)
    if bind.dialect.name == "sqlite":
        day = f"date(s.created_at, '{minutes:+d} minutes')"
    else:
        day = f"date(s.created_at + interval '{minutes} minutes')"
    lines = (f"SELECT {day} AS day, l.member_id, l.product_id, l.quantity, l.line_total, l.commission "
             "FROM sale_lines l JOIN sales s ON s.id = l.sale_id "
             "WHERE NOT EXISTS (SELECT 1 FROM sale_voids v WHERE v.sale_id = l.sale_id)")
    sums = "SUM(quantity), SUM(line_total), SUM(commission), COUNT(*)"
    op.execute(f"INSERT INTO sales_daily (day, member_id, product_id, units, gross, commission, lines) "
               f"SELECT day, member_id, product_id, {sums} FROM ({lines}) t GROUP BY day, member_id, product_id "
               f"UNION ALL SELECT day, member_id, 0, {sums} FROM ({lines}) t GROUP BY day, member_id "
               f"UNION ALL SELECT day, 0, 0, {sums} FROM ({lines}) t GROUP BY day")


def downgrade():
    # A plain DROP COLUMN (SQLite >= 3.35): batch mode would copy the table, which other tables reference.
    op.drop_column('payouts', 'line_count')
    with op.batch_alter_table('sales_daily', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_daily_member_product_day')
    op.drop_table('sales_daily')
