"""Every ledger rule of the gerai, against the real database."""
from datetime import date, timedelta
from unittest.mock import patch

import pytest
from sqlalchemy import func, select

from consignment import services
from consignment.models import SaleLine, SaleVoid, StockMovement
from consignment.services import LineRequest
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.models import AuditEvent, Cooperative


def movements(lot):
    return [(m.kind, m.quantity) for m in services.lot_movements(lot.id)]


# --- commission agreements ------------------------------------------------------------------------

@pytest.mark.parametrize("typed, bp", [("15", 1500), ("12,5", 1250), ("12.5", 1250), ("7,25%", 725), ("0", 0)])
def test_commission_is_typed_as_percent_and_stored_as_basis_points(typed, bp):
    assert services.parse_percent(typed) == bp


@pytest.mark.parametrize("typed", ["abc", "101", "12,345", "-5", ""])
def test_bad_commission_is_refused(app, typed):
    with pytest.raises(DomainError):
        services.parse_percent(typed)


def test_rate_in_force_prefers_category_agreement_then_latest_general_then_default(
        app, make_user, make_member, make_category):
    db.session.add(Cooperative(name="Kop", default_commission_bp=1000))
    db.session.commit()
    pengurus, member, snacks = make_user("pengurus"), make_member(), make_category("Makanan Ringan")
    today = date(2026, 11, 24)
    assert services.commission_in_force(member.id, snacks.id, today)[0] == 1000
    services.create_agreement(pengurus, member_id=member.id, commission_bp=1500, valid_from=date(2026, 1, 1))
    services.create_agreement(pengurus, member_id=member.id, commission_bp=1200, valid_from=date(2026, 6, 1))
    assert services.commission_in_force(member.id, None, today)[0] == 1200
    services.create_agreement(pengurus, member_id=member.id, commission_bp=800, valid_from=date(2026, 1, 1),
                              valid_to=date(2026, 12, 31), category_id=snacks.id)
    assert services.commission_in_force(member.id, snacks.id, today)[0] == 800
    assert services.commission_in_force(member.id, snacks.id, date(2027, 1, 1))[0] == 1200
    assert services.commission_in_force(member.id, None, date(2025, 12, 31))[0] == 1000


def test_agreement_end_before_start_is_refused(make_user, make_member):
    with pytest.raises(DomainError) as exc:
        services.create_agreement(make_user("pengurus"), member_id=make_member().id, commission_bp=1000,
                                  valid_from=date(2026, 5, 1), valid_to=date(2026, 4, 1))
    assert exc.value.field == "valid_to"


def test_commission_rounds_half_up_to_whole_rupiah():
    assert services.commission_amount(15000, 1500) == 2250
    assert services.commission_amount(333, 1500) == 50  # 49.95 -> 50
    assert services.commission_amount(100, 1250) == 13  # 12.5 -> 13
    assert services.commission_amount(0, 1500) == 0


# --- intake --------------------------------------------------------------------------------------

def test_intake_creates_lot_with_code_snapshot_rate_and_intake_movement(make_user, make_member, make_product, make_lot):
    member = make_member()
    services.create_agreement(make_user("pengurus"), member_id=member.id, commission_bp=1750,
                              valid_from=date(2020, 1, 1))
    product = make_product(member, price=15000)
    lot = make_lot(product, quantity=40)
    assert len(lot.code) == 6 and lot.code.isalnum() and lot.code.isupper()
    assert (lot.unit_price, lot.commission_bp, lot.member_id) == (15000, 1750, member.id)
    assert movements(lot) == [("intake", 40)]
    assert services.on_hand(lot.id) == 40
    assert services.find_lot(lot.code.lower()).id == lot.id
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.object_type == "ConsignmentLot")) == "lot.receive"


def test_later_agreement_does_not_change_an_existing_lots_snapshot(make_user, make_product, make_lot):
    lot = make_lot(make_product(), quantity=5)
    before = lot.commission_bp
    services.create_agreement(make_user("pengurus"), member_id=lot.member_id, commission_bp=before + 500,
                              valid_from=date(2000, 1, 1))
    db.session.expire_all()
    assert services.find_lot(lot.code).commission_bp == before


@pytest.mark.parametrize("quantity", [0, -3, 2.5, 10**6])
def test_intake_quantity_must_be_a_sensible_whole_number(make_lot, quantity):
    with pytest.raises(DomainError):
        make_lot(quantity=quantity)


def test_intake_of_expired_food_is_refused(make_lot):
    with pytest.raises(DomainError, match="kedaluwarsa|passed"):
        make_lot(expiry_date=date.today() - timedelta(days=1))


# --- counter sales -------------------------------------------------------------------------------

def test_counter_sale_reduces_stock_and_snapshots_price_and_commission(make_user, make_lot):
    kasir = make_user("kasir")
    lot = make_lot(quantity=40)
    sale = services.record_counter_sale(kasir, [LineRequest(lot.id, 3)], "cash", cash_received=50000)
    line = sale.lines[0]
    assert (line.quantity, line.unit_price, line.line_total) == (3, lot.unit_price, 3 * lot.unit_price)
    assert line.commission == services.commission_amount(line.line_total, lot.commission_bp)
    assert sale.total == 45000 and sale.change == 5000
    assert sale.number.startswith("J")
    assert services.on_hand(lot.id) == 37
    assert movements(lot) == [("intake", 40), ("sale", -3)]


def test_selling_more_than_on_hand_is_refused_and_records_nothing(make_user, make_lot):
    lot = make_lot(quantity=2)
    with pytest.raises(DomainError, match="2"):
        services.record_counter_sale(make_user("kasir"), [LineRequest(lot.id, 3)], "qris")
    assert services.on_hand(lot.id) == 2
    assert db.session.scalar(select(func.count(SaleLine.id))) == 0


def test_two_lines_of_the_same_lot_count_together(make_user, make_lot):
    lot = make_lot(quantity=3)
    with pytest.raises(DomainError):
        services.record_counter_sale(make_user("kasir"), [LineRequest(lot.id, 2), LineRequest(lot.id, 2)], "qris")


def test_cash_short_of_the_total_is_refused(make_user, make_lot):
    lot = make_lot(quantity=5)
    with pytest.raises(DomainError) as exc:
        services.record_counter_sale(make_user("kasir"), [LineRequest(lot.id, 1)], "cash", cash_received=1000)
    assert exc.value.field == "cash_received"


def test_sale_without_lines_or_method_is_refused(make_user, make_lot):
    kasir = make_user("kasir")
    with pytest.raises(DomainError):
        services.record_counter_sale(kasir, [], "cash")
    with pytest.raises(DomainError):
        services.record_counter_sale(kasir, [LineRequest(make_lot().id, 1)], "bitcoin")


# --- void ----------------------------------------------------------------------------------------

def test_void_reverses_stock_with_new_movements_and_keeps_the_sale(make_user, make_lot):
    lot = make_lot(quantity=10)
    sale = services.record_counter_sale(make_user("kasir"), [LineRequest(lot.id, 4)], "transfer")
    services.void_sale(make_user("pengurus"), sale.id, "salah input jumlah")
    assert services.on_hand(lot.id) == 10
    assert movements(lot) == [("intake", 10), ("sale", -4), ("void", 4)]
    assert db.session.scalar(select(func.count(SaleLine.id))) == 1
    assert services.get_sale(sale.id).is_void


def test_a_sale_cannot_be_voided_twice_or_without_a_reason(make_user, make_lot):
    pengurus = make_user("pengurus")
    lot = make_lot(quantity=10)
    sale = services.record_counter_sale(make_user("kasir"), [LineRequest(lot.id, 4)], "qris")
    with pytest.raises(DomainError):
        services.void_sale(pengurus, sale.id, "")
    services.void_sale(pengurus, sale.id, "pembeli batal")
    with pytest.raises(DomainError, match="sudah dibatalkan|already"):
        services.void_sale(pengurus, sale.id, "lagi")
    assert db.session.scalar(select(func.count(SaleVoid.id))) == 1
    assert services.on_hand(lot.id) == 10


# --- returns and adjustments ---------------------------------------------------------------------

def test_return_to_member_takes_stock_out_with_a_slip(make_user, make_lot):
    lot = make_lot(quantity=10)
    slip = services.return_to_member(make_user("kasir"), lot.member_id, [LineRequest(lot.id, 6)], "sisa bulan lalu")
    assert slip.number.startswith("R") and services.on_hand(lot.id) == 4
    assert [(m.kind, m.quantity, m.return_slip_id) for m in slip.movements] == [("return_to_member", -6, slip.id)]


def test_return_of_another_members_lot_or_too_many_is_refused(make_user, make_member, make_lot):
    kasir = make_user("kasir")
    lot = make_lot(quantity=3)
    with pytest.raises(DomainError):
        services.return_to_member(kasir, make_member().id, [LineRequest(lot.id, 1)])
    with pytest.raises(DomainError):
        services.return_to_member(kasir, lot.member_id, [LineRequest(lot.id, 4)])
    assert services.on_hand(lot.id) == 3


def test_adjustment_needs_a_reason_and_damage_always_takes_stock_out(make_user, make_lot):
    kasir = make_user("kasir")
    lot = make_lot(quantity=10)
    with pytest.raises(DomainError):
        services.adjust_stock(kasir, lot.id, -1, "damaged", "")
    services.adjust_stock(kasir, lot.id, 2, "damaged", "kemasan sobek")
    services.adjust_stock(kasir, lot.id, 1, "count_correction", "hitung ulang rak")
    assert movements(lot) == [("intake", 10), ("adjustment", -2), ("adjustment", 1)]
    assert services.on_hand(lot.id) == 9
    with pytest.raises(DomainError):
        services.adjust_stock(kasir, lot.id, -10, "lost", "hilang dari rak")
    assert services.on_hand(lot.id) == 9


def test_on_hand_always_equals_the_sum_of_the_ledger(make_user, make_lot):
    kasir = make_user("kasir")
    lot = make_lot(quantity=20)
    services.record_counter_sale(kasir, [LineRequest(lot.id, 5)], "cash")
    sale = services.record_counter_sale(kasir, [LineRequest(lot.id, 2)], "qris")
    services.void_sale(make_user("pengurus"), sale.id, "batal")
    services.adjust_stock(kasir, lot.id, 1, "expired", "lewat tanggal")
    services.return_to_member(kasir, lot.member_id, [LineRequest(lot.id, 4)])
    ledger = db.session.scalar(select(func.sum(StockMovement.quantity)).where(StockMovement.lot_id == lot.id))
    assert services.on_hand(lot.id) == ledger == 20 - 5 - 1 - 4
    row = services.lots_overview(lot.member_id)[0]
    assert (row.on_hand, row.sold) == (10, 5)


# --- reports -------------------------------------------------------------------------------------

def test_aging_lists_old_and_expiring_lots_with_stock_per_member(make_user, make_lot):
    from marketplace.timeutil import local_today

    today = local_today()
    fresh = make_lot(quantity=5)
    expiring = make_lot(quantity=5, expiry_date=today + timedelta(days=3))
    sold_out = make_lot(quantity=1, expiry_date=today + timedelta(days=1))
    services.record_counter_sale(make_user("kasir"), [LineRequest(sold_out.id, 1)], "cash")
    report = services.aging_report(30)
    listed = {row.id for rows in report.values() for row in rows}
    assert listed == {expiring.id}
    assert {row.id for rows in services.aging_report(0, today=today + timedelta(days=1)).values()
            for row in rows} == {fresh.id, expiring.id}


def test_member_sees_only_own_sales(make_user, make_lot):
    kasir = make_user("kasir")
    mine, theirs = make_lot(quantity=5), make_lot(quantity=5)
    services.record_counter_sale(kasir, [LineRequest(mine.id, 1), LineRequest(theirs.id, 2)], "cash")
    assert [(l.lot_id, l.quantity) for l in services.member_sales(mine.member_id)] == [(mine.id, 1)]


def test_sales_report_groups_by_the_cooperatives_local_day(make_user, make_lot):
    from datetime import datetime

    from consignment import reports

    lot = make_lot(quantity=5)
    with patch.object(services, "utcnow", lambda: datetime(2026, 11, 24, 20, 30)):  # 03:30 on the 25th (WIB/WITA)
        sale = services.record_counter_sale(make_user("kasir"), [LineRequest(lot.id, 2)], "cash")
    rows = reports.sales_summary(date(2026, 11, 25), date(2026, 11, 25), "day")
    assert [(r.key, r.units, r.gross) for r in rows] == [("2026-11-25", 2, 2 * lot.unit_price)]
    assert reports.sales_summary(date(2026, 11, 24), date(2026, 11, 24), "day") == []
    voided = services.void_sale(make_user("pengurus"), sale.id, "uji")
    assert voided.is_void and reports.sales_summary(date(2026, 11, 25), date(2026, 11, 25), "day") == []


def test_stock_and_money_sums_come_back_as_whole_numbers(make_user, make_lot):
    """On PostgreSQL a SUM over BIGINT columns is NUMERIC; quantities and Rupiah must stay int."""
    lot = make_lot(quantity=7)
    sale = services.record_counter_sale(make_user("kasir"), [services.LineRequest(lot.id, 3)], "cash")
    left = services.on_hand(lot.id)
    assert type(left) is int and left == 4
    assert type(services.on_hand_by_lot([lot.id])[lot.id]) is int
    services.return_to_member(make_user("kasir"), lot.member_id, [services.LineRequest(lot.id, left // 2)])
    assert services.on_hand(lot.id) == 2 and sale.total == 45000
