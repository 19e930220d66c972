"""No page walks a table that grows with the cooperative's history.

A walk of every order, sale line or product shows neither in the number of statements nor in their execute
time (SQLite steps lazily, as rows are fetched): the pengurus's product list sorted every product to show 20
and counted them all. So every SELECT that the signed-in pages and the storefront run is explained here, and a
plan that walks a history table (`SCAN products`, also through an index) fails, unless the walk is in the
order asked for and stops after the page (no WHERE to filter while walking, no sort, a LIMIT).

The test database has no statistics (SQLite plans by its rules until `ANALYZE`); the benchmark data is
ANALYZEd, like PostgreSQL's (autovacuum keeps statistics), and its page table caught the plans statistics
change: with them SQLite walked every order for `status IN (…) ORDER BY id` — now one status at a time on
(status, id)."""
import re

import pytest
from sqlalchemy import event

from marketplace.extensions import db
from marketplace.timeutil import local_today
from settlement import services as settlement
from tests.bench.conftest import request_each, signed_in_pages

# Tables whose rows accumulate with every sale, order, movement, lot, product or event.
HISTORY = {"orders", "order_lines", "sales", "sale_lines", "sale_voids", "stock_movements", "consignment_lots",
           "products", "product_photos", "audit_events", "notifications", "sales_daily", "payouts", "payout_lines",
           "payment_events", "payout_payments", "payout_adjustments", "counter_payments", "stock_discrepancies",
           "join_requests", "once_keys"}
# Walks known and accepted, with the reason (README, Known limits): what the open settlement and a member's
# balance subtract from the daily figures is every closed statement and every settled-then-voided line.
ACCEPTED = {
    "sale_voids": "voids are few (a mistake corrected at the counter); the drafts start from them",
    "payouts": "one row per member per closed month: the drafts subtract every closed statement",
}
STOREFRONT = ["/", "/produk", "/produk?page=2", "/produk?q=produk", "/produk?urut=price_asc", "/transparansi"]


def _table(name: str, statement: str) -> str:
    """The table behind a plan's name for it: SQLAlchemy's aliases (`product_photos_1`, `AS p`) too."""
    alias = re.search(rf"\b(\w+) AS {re.escape(name)}\b", statement)
    return alias.group(1) if alias else re.sub(r"_\d+$", "", name)


def _walks(plan_rows, statement: str) -> list[str]:
    """The history tables a plan walks without stopping early."""
    walked = []
    sorts = any("TEMP B-TREE FOR ORDER BY" in row[-1] for row in plan_rows)
    stops_early = " LIMIT " in statement.upper() and " WHERE " not in statement.upper() and not sorts
    for row in plan_rows:
        match = re.match(r"SCAN (\w+)", row[-1])
        table = _table(match.group(1), statement) if match else None
        if table in HISTORY and table not in ACCEPTED and not stops_early:
            walked.append(row[-1])
    return walked


def test_no_page_walks_a_history_table(app, client, auth, coop):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the planner without statistics is SQLite's (PostgreSQL keeps them: ANALYZE by autovacuum)")
    coop["grow_to"](3, 3)
    period = settlement.open_period(coop["pengurus"], local_today())
    seen: list[tuple[str, tuple]] = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")) and not executemany:
            seen.append((statement, parameters))

    def plans(url):
        seen.clear()
        event.listen(db.engine, "before_cursor_execute", remember)
        try:
            assert client.get(url).status_code == 200, url
        finally:
            event.remove(db.engine, "before_cursor_execute", remember)
        walked = []
        with db.engine.connect() as conn:
            for statement, parameters in list(seen):
                rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
                walked += [(detail, " ".join(statement.split())[:300]) for detail in _walks(rows, statement)]
        return walked

    results = request_each(client, auth, coop, signed_in_pages(coop, period.id), plans)
    results.update({("anonymous", url): plans(url) for url in STOREFRONT})
    walks = {page: walked for page, walked in results.items() if walked}
    assert walks == {}, "\n".join(f"{page}: {w}" for page, ws in walks.items() for w in ws)


def test_a_members_recent_sales_are_read_from_the_end_of_her_index_without_sorting_her_history(app, make_lot,
                                                                                                 make_user):
    """`/gerai/saya` shows her 50 newest sale lines: read backwards along (member_id, sale_id) and stopped there,
    not all her lines sorted (SQLite) nor every line ever sold walked backwards by id (PostgreSQL, 10 ms at 1M)."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the planner without statistics is SQLite's")
    from consignment.services import LineRequest, member_sales, record_counter_sale

    lot = make_lot(quantity=10)
    kasir = make_user("kasir")
    sales = [record_counter_sale(kasir, [LineRequest(lot.id, 1)], "cash") for _ in range(3)]
    seen = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        newest = member_sales(lot.member_id, limit=2)
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    assert [line.sold_at for line in newest] == [sales[2].created_at, sales[1].created_at]
    statement, parameters = next((st, p) for st, p in seen if "FROM sale_lines" in st)
    plan = db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    details = [row[-1] for row in plan]
    assert any("ix_sale_lines_member_sale" in d for d in details), details
    assert not any("TEMP B-TREE" in d for d in details), details
