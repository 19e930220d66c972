"""notifications: the outbox of WhatsApp / in-app messages, and each account's choices

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-25 06:30:00
"""
from alembic import op
import sqlalchemy as sa

BIG_INT = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'notifications',
        sa.Column('id', BIG_INT, nullable=False),
        sa.Column('key', sa.String(length=120), nullable=False),
        sa.Column('user_id', BIG_INT, nullable=True),
        sa.Column('phone', sa.String(length=32), nullable=False),
        sa.Column('event', sa.String(length=30), nullable=False),
        sa.Column('params', sa.Text(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('channel', sa.String(length=10), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', BIG_INT, nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
        sa.Column('lease_until', sa.DateTime(), nullable=True),
        sa.Column('claim_token', sa.String(length=32), nullable=True),
        sa.Column('provider_message_id', sa.String(length=128), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.Column('sent_by_id', BIG_INT, nullable=True),
        sa.Column('read_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint("status IN ('pending','sending','sent','delivered','read','failed','manual_pending',"
                           "'manual_sent')", name=op.f('ck_notifications_status_known')),
        sa.CheckConstraint("channel IN ('whatsapp','manual','inapp')", name=op.f('ck_notifications_channel_known')),
        sa.CheckConstraint('attempts >= 0', name=op.f('ck_notifications_attempts_not_negative')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users')),
        sa.ForeignKeyConstraint(['sent_by_id'], ['users.id'], name=op.f('fk_notifications_sent_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
        sa.UniqueConstraint('key', name=op.f('uq_notifications_key')),
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_user_id_id', ['user_id', 'id'], unique=False)
        batch_op.create_index('ix_notifications_due', ['channel', 'status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_notifications_status_id', ['status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_provider_message_id'), ['provider_message_id'],
                              unique=False)
    op.create_table(
        'notification_preferences',
        sa.Column('id', BIG_INT, nullable=False),
        sa.Column('user_id', BIG_INT, nullable=False),
        sa.Column('whatsapp_events', sa.String(length=200), nullable=False),
        sa.Column('sold_mode', sa.String(length=10), nullable=False),
        sa.Column('low_stock_threshold', BIG_INT, nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint('low_stock_threshold >= 0', name=op.f('ck_notification_preferences_threshold_not_negative')),
        sa.CheckConstraint("sold_mode IN ('each','daily')", name=op.f('ck_notification_preferences_sold_mode_known')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_preferences_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_preferences')),
        sa.UniqueConstraint('user_id', name=op.f('uq_notification_preferences_user_id')),
    )


def downgrade():
    op.drop_table('notification_preferences')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_provider_message_id'))
        batch_op.drop_index('ix_notifications_status_id')
        batch_op.drop_index('ix_notifications_due')
        batch_op.drop_index('ix_notifications_user_id_id')
    op.drop_table('notifications')
