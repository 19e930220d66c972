"""the cooperative's time zone; audit events keep their parameters (shown as sentences)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25 04:00:00

Cooperative.time_zone: "" follows BABEL_DEFAULT_TIMEZONE (as before this migration).
AuditEvent.params: the event's parameters as JSON; "" for rows written before (shown by their summary).
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cooperatives', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), server_default='', nullable=False))
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('params', sa.Text(), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('params')
    with op.batch_alter_table('cooperatives', schema=None) as batch_op:
        batch_op.drop_column('time_zone')
