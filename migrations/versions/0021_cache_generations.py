"""cache_generations: a token the database moves whenever the catalogue's shared values change

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 16:00:00

Every page shows the cooperative's name and logo; the product list shows the categories in use and how many
products a filter finds; the home page shows the newest news. Those change a few times a day, yet every
request read them again (on the uncached product list a third of its SQL). Each worker process now keeps them
under `cache_generations.value` (name 'catalogue') and reads them again only when it has moved.

The token is moved by triggers, so no code path can change those rows and forget it: an insert, a delete, or
an update of a product's status, category or price, of a category, of the cooperative's row or of a news post
writes a new random value in the same transaction. Random, not a counter: a transaction that rolls back may
have let its own request keep values under its uncommitted token, and a counter would hand the next commit the
same number. On PostgreSQL the triggers are deferred to commit and write once per transaction: the token's
row lock is then taken last and held only while committing, so two transactions writing products cannot
deadlock on it.
"""
from alembic import op
import sqlalchemy as sa


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

# table -> the UPDATE columns that matter (None: any)
WATCHED = {"products": "status, category_id, price", "categories": None, "cooperatives": None, "news_posts": None}

SQLITE_BUMP = ("INSERT OR REPLACE INTO cache_generations (name, value, changed_by_tx) "
               "VALUES ('catalogue', random(), NULL)")

PG_FUNCTION = """
CREATE FUNCTION bump_catalogue_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO cache_generations (name, value, changed_by_tx)
    VALUES ('catalogue', floor(random() * 9e18)::bigint, txid_current())
    ON CONFLICT (name) DO UPDATE SET value = excluded.value, changed_by_tx = excluded.changed_by_tx
    WHERE cache_generations.changed_by_tx IS DISTINCT FROM excluded.changed_by_tx;
    RETURN NULL;
END
$$
"""


def upgrade():
    op.create_table(
        'cache_generations',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('value', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('changed_by_tx', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_cache_generations')),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for table, columns in WATCHED.items():
            update = f"UPDATE OF {columns}" if columns else "UPDATE"
            op.execute(f"CREATE CONSTRAINT TRIGGER {table}_move_catalogue_generation AFTER INSERT OR {update} OR DELETE "
                       f"ON {table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_catalogue_generation()")
        op.execute("INSERT INTO cache_generations (name, value) VALUES ('catalogue', floor(random() * 9e18)::bigint)")
    else:
        for table, columns in WATCHED.items():
            update = f"UPDATE OF {columns}" if columns else "UPDATE"
            for event in ("INSERT", update, "DELETE"):
                name = f"{table}_{event.split()[0].lower()}_moves_catalogue_generation"
                op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {SQLITE_BUMP}; END")
        op.execute("INSERT INTO cache_generations (name, value) VALUES ('catalogue', random())")


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER {table}_move_catalogue_generation ON {table}")
        op.execute("DROP FUNCTION bump_catalogue_generation()")
    else:
        for table in WATCHED:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_{event}_moves_catalogue_generation")
    op.drop_table('cache_generations')
