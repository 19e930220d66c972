"""catalogue generation: also moved by what a product tile shows

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 20:00:00

A page of product tiles (the product list, the home page, search results) is now kept per worker under the
catalogue's generation too (storefront.services). A tile shows a product's name, price, unit and link, its
member's business name, its cover photo and whether any of its lots has stock on hand, and the list orders
products by publication and by that stock. So the token also moves, in the changing transaction, on:

- an update of a product's name, slug, unit, publication time or member (0021 watched status, category and
  price);
- any insert, update or delete of a product photo;
- an update of a member's business name, and a member's delete;
- a lot received or deleted, and a lot's balance crossing zero (sold out, or stock again after a return or a
  correction) — not every sale: a sale that leaves stock on the shelf changes no tile.

As in 0021, on PostgreSQL the triggers are deferred to commit and write once per transaction.
"""
from alembic import op


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

PRODUCT_COLUMNS_0021 = "status, category_id, price"
PRODUCT_COLUMNS = "status, category_id, price, name, slug, unit, published_at, member_id"
SQLITE_BUMP = ("INSERT OR REPLACE INTO cache_generations (name, value, changed_by_tx) "
               "VALUES ('catalogue', random(), NULL)")
CROSSES_ZERO = "(OLD.on_hand > 0) <> (NEW.on_hand > 0)"

# name -> (events, table, WHEN condition or None), the triggers this migration adds
SQLITE_TRIGGERS = {
    "product_photos_insert_moves_catalogue_generation": ("INSERT", "product_photos", None),
    "product_photos_update_moves_catalogue_generation": ("UPDATE", "product_photos", None),
    "product_photos_delete_moves_catalogue_generation": ("DELETE", "product_photos", None),
    "members_update_moves_catalogue_generation": ("UPDATE OF business_name", "members", None),
    "members_delete_moves_catalogue_generation": ("DELETE", "members", None),
    "consignment_lots_insert_moves_catalogue_generation": ("INSERT", "consignment_lots", None),
    "consignment_lots_delete_moves_catalogue_generation": ("DELETE", "consignment_lots", None),
    "consignment_lots_update_moves_catalogue_generation": ("UPDATE OF on_hand", "consignment_lots", CROSSES_ZERO),
}
PG_TRIGGERS = {
    "product_photos_move_catalogue_generation": ("INSERT OR UPDATE OR DELETE", "product_photos", None),
    "members_move_catalogue_generation": ("UPDATE OF business_name OR DELETE", "members", None),
    "consignment_lots_move_catalogue_generation": ("INSERT OR DELETE", "consignment_lots", None),
    "consignment_lots_balance_moves_catalogue_generation": ("UPDATE OF on_hand", "consignment_lots",
                                                            "(OLD.on_hand > 0) IS DISTINCT FROM (NEW.on_hand > 0)"),
}


def _products_trigger(columns: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER products_move_catalogue_generation ON products")
        op.execute(f"CREATE CONSTRAINT TRIGGER products_move_catalogue_generation AFTER INSERT OR UPDATE OF {columns} "
                   f"OR DELETE ON products DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                   f"EXECUTE FUNCTION bump_catalogue_generation()")
    else:
        op.execute("DROP TRIGGER products_update_moves_catalogue_generation")
        op.execute(f"CREATE TRIGGER products_update_moves_catalogue_generation AFTER UPDATE OF {columns} ON products "
                   f"BEGIN {SQLITE_BUMP}; END")


def upgrade():
    _products_trigger(PRODUCT_COLUMNS)
    if op.get_bind().dialect.name == "postgresql":
        for name, (events, table, when) in PG_TRIGGERS.items():
            condition = f" WHEN ({when})" if when else ""
            op.execute(f"CREATE CONSTRAINT TRIGGER {name} AFTER {events} ON {table} DEFERRABLE INITIALLY DEFERRED "
                       f"FOR EACH ROW{condition} EXECUTE FUNCTION bump_catalogue_generation()")
    else:
        for name, (events, table, when) in SQLITE_TRIGGERS.items():
            condition = f" WHEN {when}" if when else ""
            op.execute(f"CREATE TRIGGER {name} AFTER {events} ON {table}{condition} BEGIN {SQLITE_BUMP}; END")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name, (_events, table, _when) in PG_TRIGGERS.items():
            op.execute(f"DROP TRIGGER {name} ON {table}")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    _products_trigger(PRODUCT_COLUMNS_0021)
