"""orders: checkout address for the rate limit, lookup indexes, and the system user created once

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 10:00:00

The system user (the actor of online orders and payment notifications) used to be created on first use,
so the first concurrent checkouts raced to insert it (UniqueViolation). It is created here, once.
"""
import secrets
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

SYSTEM_EMAIL = "sistem@pasar-koperasi.invalid"  # marketplace.accounts.SYSTEM_EMAIL, frozen here
users = sa.table("users", sa.column("id", sa.Integer), sa.column("email", sa.String), sa.column("phone", sa.String),
                 sa.column("name", sa.String), sa.column("password_hash", sa.String), sa.column("role", sa.String),
                 sa.column("active", sa.Boolean), sa.column("created_at", sa.DateTime),
                 sa.column("session_token", sa.String))


def upgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_ip', sa.String(length=64), server_default='', nullable=False))
        batch_op.create_index('ix_orders_client_ip_created', ['client_ip', 'created_at'], unique=False)
        batch_op.create_index('ix_orders_phone_status', ['customer_phone', 'status'], unique=False)

    conn = op.get_bind()
    if conn.execute(sa.select(users.c.id).where(users.c.email == SYSTEM_EMAIL)).first() is None:
        op.execute(users.insert().values(
            email=SYSTEM_EMAIL, name="Sistem (pesanan daring)", role="kasir", active=False,
            password_hash="!" + secrets.token_hex(16),  # no hash format matches: no password works
            session_token=secrets.token_urlsafe(24),
            created_at=datetime.now(timezone.utc).replace(tzinfo=None)))


def downgrade():
    # The system user stays: orders, sales and audit events refer to it.
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_phone_status')
        batch_op.drop_index('ix_orders_client_ip_created')
        batch_op.drop_column('client_ip')
