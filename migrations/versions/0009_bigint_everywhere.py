"""64-bit integers everywhere on PostgreSQL (money, quantities, ids and their sequences)

Money columns were 32-bit on PostgreSQL: three items of Rp999.999.999 overflowed, and a statement
above Rp2.147.483.647 could not be closed. SQLite's INTEGER is already 64-bit, so this migration
changes nothing there. It alters every INTEGER column of the schema it runs in (and every integer
sequence behind an id), whatever migration created it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 04:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def _retype(from_type: str, to_type: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    columns = bind.execute(sa.text(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND data_type = :t AND table_name <> 'alembic_version' "
        "ORDER BY table_name, ordinal_position"), {"t": from_type}).all()
    for table, column in columns:
        op.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE {to_type}')
    sequences = bind.execute(sa.text(
        "SELECT sequence_name FROM information_schema.sequences "
        "WHERE sequence_schema = current_schema() AND data_type = :t"), {"t": from_type}).scalars().all()
    for sequence in sequences:
        op.execute(f'ALTER SEQUENCE "{sequence}" AS {to_type}')


def upgrade():
    _retype("integer", "bigint")


def downgrade():
    _retype("bigint", "integer")
