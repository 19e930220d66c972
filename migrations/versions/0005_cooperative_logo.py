"""cooperative logo

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 23:32:48.066623

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cooperatives', schema=None) as batch_op:
        batch_op.add_column(sa.Column('logo_hash', sa.String(length=64), server_default='', nullable=False))
        batch_op.add_column(sa.Column('logo_width', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('logo_height', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('cooperatives', schema=None) as batch_op:
        batch_op.drop_column('logo_height')
        batch_op.drop_column('logo_width')
        batch_op.drop_column('logo_hash')
