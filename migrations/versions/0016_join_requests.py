"""join requests from the public page /titip-produk

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-25 06:15:00

No account exists until a pengurus approves a request; the status moves pending -> approved | declined.
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    big_int = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table('join_requests',
    sa.Column('id', big_int, nullable=False),
    sa.Column('business_name', sa.String(length=200), nullable=False),
    sa.Column('owner_name', sa.String(length=200), nullable=False),
    sa.Column('whatsapp', sa.String(length=32), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('makes', sa.Text(), nullable=False),
    sa.Column('photo_hash', sa.String(length=64), server_default='', nullable=False),
    sa.Column('photo_width', big_int, server_default='0', nullable=False),
    sa.Column('photo_height', big_int, server_default='0', nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('decline_reason', sa.Text(), server_default='', nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by_id', big_int, nullable=True),
    sa.Column('member_id', big_int, nullable=True),
    sa.CheckConstraint("status IN ('pending','approved','declined')", name=op.f('ck_join_requests_join_status_known')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_join_requests_decided_by_id_users')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_join_requests_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_join_requests')),
    sa.UniqueConstraint('member_id', name=op.f('uq_join_requests_member_id'))
    )
    with op.batch_alter_table('join_requests', schema=None) as batch_op:
        batch_op.create_index('ix_join_requests_ip_time', ['ip', 'created_at'], unique=False)
        batch_op.create_index('ix_join_requests_whatsapp_time', ['whatsapp', 'created_at'], unique=False)
        batch_op.create_index('ix_join_requests_status_time', ['status', 'created_at'], unique=False)
    op.create_table('join_photo_keeps',
    sa.Column('id', big_int, nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_join_photo_keeps'))
    )
    with op.batch_alter_table('join_photo_keeps', schema=None) as batch_op:
        batch_op.create_index('ix_join_photo_keeps_ip_time', ['ip', 'created_at'], unique=False)


def downgrade():
    op.drop_table('join_photo_keeps')
    op.drop_table('join_requests')
