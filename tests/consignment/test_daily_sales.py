"""The daily sales figures (consignment.daily, table sales_daily) are kept with every sale and void, in the
same transaction, and always equal the SUM of the sale lines: counter sales, online orders, voids (on the
original sale's day), refused sales and concurrent sales. `check-ledger` proves it and names a row that
differs; `--repair` rebuilds them. Reports and /transparansi read them instead of the lines."""
from datetime import date, datetime
from unittest.mock import patch

from sqlalchemy import select, update

from consignment import daily, reports
from consignment import services as gerai
from consignment.daily import SalesDaily
from consignment.services import LineRequest
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.timeutil import local_today
from orders import services as orders
from settlement import services as settlement


def _figures(day, member_id=0, product_id=0):
    db.session.expire_all()
    row = db.session.get(SalesDaily, (day, member_id, product_id))
    return (row.units, row.gross, row.commission, row.lines) if row else None


def test_sales_online_orders_and_voids_keep_the_daily_figures_equal_to_the_sale_lines(make_user, make_lot):
    kasir, pengurus = make_user("kasir"), make_user("pengurus")
    a, b = make_lot(quantity=20), make_lot(quantity=20)
    yesterday = datetime(2026, 11, 23, 20, 0)  # 03:00 on 24 November in WIB
    with patch.object(gerai, "utcnow", lambda: yesterday):
        old = gerai.record_counter_sale(kasir, [LineRequest(a.id, 2)], "cash")
    gerai.record_counter_sale(kasir, [LineRequest(a.id, 1), LineRequest(b.id, 3)], "qris")
    order = orders.place_order({b.product_id: 2}, orders.Customer(name="Budi", phone="0812 1111 2222"), "gerai")
    orders.complete_at_counter(kasir, order.id, "cash")
    today, price = local_today(), a.unit_price
    assert daily.mismatches() == []
    assert _figures(date(2026, 11, 24)) == (2, 2 * price, old.lines[0].commission, 1)
    assert _figures(today)[:2] == (6, 6 * price) and _figures(today)[3] == 3
    assert _figures(today, b.member_id, b.product_id)[:2] == (5, 5 * price)  # counter 3 + online 2

    gerai.void_sale(pengurus, old.id, "salah input")  # the void subtracts on the day of the sale, not today
    assert daily.mismatches() == []
    assert _figures(date(2026, 11, 24)) == (0, 0, 0, 0)
    assert _figures(today)[:2] == (6, 6 * price)
    assert reports.sales_summary(date(2026, 11, 24), date(2026, 11, 24)) == []  # a day of voided sales only


def test_a_refused_sale_adds_nothing_to_the_daily_figures(make_user, make_lot):
    kasir = make_user("kasir")
    lot, scarce = make_lot(quantity=5), make_lot(quantity=1)
    try:
        gerai.record_counter_sale(kasir, [LineRequest(lot.id, 2), LineRequest(scarce.id, 2)], "cash")
    except DomainError:
        pass
    assert db.session.scalars(select(SalesDaily)).all() == []
    gerai.record_counter_sale(kasir, [LineRequest(lot.id, 1)], "cash")  # nothing left queued from the refusal
    assert _figures(local_today())[:2] == (1, lot.unit_price) and daily.mismatches() == []


def test_concurrent_sales_lose_no_update_of_the_daily_figures(app, at_once, make_user, make_member, make_product,
                                                              make_lot):
    members = [make_member(), make_member()]
    lots = [make_lot(make_product(m, price=1000), quantity=50) for m in members for _ in range(2)]
    kasir = [make_user("kasir").id for _ in range(4)]

    def sell(user_id, order):
        def call():
            from marketplace.models import User

            user = db.session.get(User, user_id)
            for _ in range(3):
                gerai.record_counter_sale(user, [LineRequest(lots[i].id, 1) for i in order], "cash")
            return "sold"
        return call

    results = at_once(*(sell(user_id, order) for user_id, order in zip(kasir, ([0, 2], [2, 0], [1, 3], [3, 1]))))
    assert results == ["sold"] * 4
    assert daily.mismatches() == []
    assert _figures(local_today()) == (24, 24_000, _figures(local_today())[2], 24)
    assert [_figures(local_today(), m.id)[0] for m in members] == [12, 12]


def test_check_ledger_names_a_daily_figure_that_differs_and_repair_rebuilds_it(make_user, make_lot, runner):
    lot = make_lot(quantity=5)
    gerai.record_counter_sale(make_user("kasir"), [LineRequest(lot.id, 2)], "cash")
    today = local_today()
    db.session.execute(update(SalesDaily).where(SalesDaily.member_id == lot.member_id, SalesDaily.product_id == 0)
                       .values(units=SalesDaily.units + 1))
    db.session.commit()
    result = runner.invoke(args=["check-ledger"])
    assert result.exit_code == 1
    assert f"daily sales {today} member {lot.member_id} product 0: differs from the sale lines by +1 units" \
        in result.output
    repaired = runner.invoke(args=["check-ledger", "--repair"])
    assert repaired.exit_code == 0, repaired.output
    assert "daily sales figures equal the sale lines" in repaired.output
    assert _figures(today, lot.member_id)[0] == 2


def test_transparency_counts_the_years_units_from_the_daily_figures(make_user, make_lot, count_queries):
    kasir = make_user("kasir")
    lot = make_lot(quantity=10)
    gerai.record_counter_sale(kasir, [LineRequest(lot.id, 3)], "cash")
    voided = gerai.record_counter_sale(kasir, [LineRequest(lot.id, 4)], "cash")
    gerai.void_sale(make_user("pengurus"), voided.id, "batal")
    with count_queries() as n:
        figures = settlement.transparency()
    assert figures.units_sold == 3
    assert not any("sale_lines" in sql.lower() for sql in n.statements)


def test_changing_the_cooperatives_zone_moves_the_daily_figures_to_the_new_local_days(app, make_user, make_lot):
    from marketplace import accounts

    pengurus = make_user("pengurus")
    accounts.save_cooperative(pengurus, accounts.CooperativeDetails(name="Koperasi Uji", time_zone="Asia/Jakarta"))
    lot = make_lot(quantity=5)
    with patch.object(gerai, "utcnow", lambda: datetime(2026, 11, 24, 16, 30)):  # 23:30 WIB, 00:30 WITA next day
        gerai.record_counter_sale(make_user("kasir"), [LineRequest(lot.id, 2)], "cash")
    assert _figures(date(2026, 11, 24))[0] == 2
    accounts.save_cooperative(pengurus, accounts.CooperativeDetails(name="Koperasi Uji", time_zone="Asia/Makassar"))
    assert _figures(date(2026, 11, 24)) is None and _figures(date(2026, 11, 25))[0] == 2
    assert daily.mismatches() == []
