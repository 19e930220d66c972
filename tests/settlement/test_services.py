"""Settlement rules against the real database."""
import threading
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from consignment import services as gerai
from consignment.services import LineRequest
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.models import Cooperative, User
from marketplace.timeutil import local_today
from settlement import services
from settlement.models import Payout, PayoutLine, PayoutPayment, SettlementPeriod


@pytest.fixture
def people(make_user):
    return {"kasir": make_user("kasir"), "pengurus": make_user("pengurus")}


def sell(people, lot, qty, method="cash"):
    return gerai.record_counter_sale(people["kasir"], [LineRequest(lot.id, qty)], method)


def close(people, cutoff=None):
    period = services.open_period(people["pengurus"], cutoff or local_today())
    return services.close_period(people["pengurus"], period.id)


def test_statement_covers_exactly_the_unsettled_lines_with_snapshotted_commission(people, make_lot):
    lot = make_lot(quantity=20)  # 15 % default commission, Rp15.000
    sell(people, lot, 3)
    sell(people, lot, 1)
    period = close(people)
    (payout,) = period.payouts
    assert (payout.gross, payout.commission, payout.fees, payout.payable) == (60000, 9000, 0, 51000)
    assert len(payout.lines) == 2
    # The next period has nothing for these lines.
    assert services.compute_statements(local_today()) == []


def test_statement_is_per_member_and_lines_after_the_cutoff_wait(people, make_lot):
    a, b = make_lot(quantity=5), make_lot(quantity=5)
    sell(people, a, 1)
    sell(people, b, 2)
    yesterday = local_today() - timedelta(days=1)
    assert services.compute_statements(yesterday) == []  # today's sales are after yesterday's cut-off
    period = close(people)
    assert sorted((p.member_id, p.gross) for p in period.payouts) == sorted([(a.member_id, 15000), (b.member_id, 30000)])


def test_voided_sale_before_settlement_is_not_paid(people, make_lot):
    lot = make_lot(quantity=5)
    sale = sell(people, lot, 2)
    gerai.void_sale(people["pengurus"], sale.id, "salah input")
    sell(people, lot, 1)
    (payout,) = close(people).payouts
    assert payout.gross == 15000


def test_closing_twice_creates_one_set_of_payouts(people, make_lot):
    sell(people, make_lot(quantity=5), 1)
    period = services.open_period(people["pengurus"], local_today())
    services.close_period(people["pengurus"], period.id)
    services.close_period(people["pengurus"], period.id)
    assert db.session.scalar(select(func.count(Payout.id))) == 1
    assert db.session.scalar(select(func.count(PayoutLine.id))) == 1


def test_two_tabs_closing_at_the_same_moment_create_one_set_of_payouts(app, people, make_lot):
    for _ in range(3):
        sell(people, make_lot(quantity=5), 2)
    period_id = services.open_period(people["pengurus"], local_today()).id
    pengurus_id = people["pengurus"].id
    barrier, errors = threading.Barrier(2), []

    def tab():
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                services.close_period(db.session.get(User, pengurus_id), period_id)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=tab) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Payout.id))) == 3
    assert db.session.scalar(select(func.count(PayoutLine.id))) == 3


def test_a_failure_in_the_middle_of_closing_leaves_nothing_half_written(people, make_lot, monkeypatch):
    for _ in range(3):
        sell(people, make_lot(quantity=5), 1)
    period = services.open_period(people["pengurus"], local_today())
    real, calls = services._freeze_statement, []

    def failing(period_, draft):
        calls.append(draft.member.id)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(period_, draft)

    monkeypatch.setattr(services, "_freeze_statement", failing)
    with pytest.raises(RuntimeError):
        services.close_period(people["pengurus"], period.id)
    db.session.expire_all()
    assert db.session.get(SettlementPeriod, period.id).status == "draft"
    assert db.session.scalar(select(func.count(Payout.id))) == 0
    assert db.session.scalar(select(func.count(PayoutLine.id))) == 0
    monkeypatch.setattr(services, "_freeze_statement", real)
    assert len(services.close_period(people["pengurus"], period.id).payouts) == 3


def test_sale_voided_after_payout_is_carried_as_a_negative_adjustment(people, make_lot):
    lot = make_lot(quantity=10)
    sale = sell(people, lot, 2)  # gross 30.000, commission 4.500, member share 25.500
    first = close(people).payouts[0]
    services.mark_paid(people["pengurus"], first.id, "bank_transfer", "TRF-001")
    gerai.void_sale(people["pengurus"], sale.id, "barang rusak dikembalikan pembeli")
    sell(people, lot, 3)  # share 38.250
    second = close(people).payouts[0]
    assert (second.gross, second.commission, second.adjustments, second.payable) == (45000, 6750, -25500, 12750)
    assert [a.source for a in second.adjustment_rows] == [f"void:{sale.lines[0].id}"]
    db.session.refresh(first)
    assert (first.gross, first.payable, first.is_paid) == (30000, 25500, True)  # the paid statement is untouched


def test_negative_statement_pays_nothing_and_carries_the_balance_forward(people, make_lot):
    lot = make_lot(quantity=10)
    sale = sell(people, lot, 2)
    first = close(people).payouts[0]
    services.mark_paid(people["pengurus"], first.id, "cash", acknowledged_by="Siti")
    gerai.void_sale(people["pengurus"], sale.id, "batal")
    second = close(people).payouts[0]
    assert (second.payable, second.carried_forward) == (0, -25500)
    sell(people, lot, 4)  # share 51.000
    third = close(people).payouts[0]
    assert (third.adjustments, third.payable) == (-25500, 25500)


def test_fixed_fee_is_taken_from_each_statement(people, make_lot):
    db.session.add(Cooperative(name="Kop", statement_fee=5000))
    db.session.commit()
    sell(people, make_lot(quantity=5), 2)
    (payout,) = close(people).payouts
    assert (payout.fees, payout.payable) == (5000, 30000 - 4500 - 5000)


def test_a_statement_is_paid_once_and_needs_a_reference(people, make_lot):
    sell(people, make_lot(quantity=5), 1)
    (payout,) = close(people).payouts
    with pytest.raises(DomainError):
        services.mark_paid(people["pengurus"], payout.id, "bank_transfer", "")
    with pytest.raises(DomainError):
        services.mark_paid(people["pengurus"], payout.id, "cash", acknowledged_by="")
    services.mark_paid(people["pengurus"], payout.id, "bank_transfer", "BRI 123")
    with pytest.raises(DomainError):
        services.mark_paid(people["pengurus"], payout.id, "cash", acknowledged_by="Siti")
    assert db.session.scalar(select(func.count(PayoutPayment.id))) == 1


def test_a_pengurus_with_a_business_cannot_record_paying_themselves(people, make_user, make_lot):
    from catalog.services import ProductData, create_product
    from marketplace.accounts import MemberDetails, add_business_profile

    ketua = people["pengurus"]
    add_business_profile(make_user("pengurus"), ketua, MemberDetails(business_name="Sasirangan Bu Ketua",
                                                                     owner_name="Ketua", whatsapp="0813 5555 0101"))
    product = create_product(ketua, ProductData(name="Sasirangan", price=300000, unit="lembar", status="published"),
                             member_id=ketua.member.id)
    sell(people, make_lot(product=product, quantity=2), 1)
    (payout,) = close(people).payouts
    with pytest.raises(DomainError, match="pengurus lain|Another pengurus"):
        services.mark_paid(ketua, payout.id, "bank_transfer", "BRI 777")
    services.mark_paid(make_user("pengurus"), payout.id, "bank_transfer", "BRI 777")
    assert payout.payment.reference == "BRI 777"


def test_only_one_open_settlement_and_no_future_or_backward_cutoff(people):
    pengurus = people["pengurus"]
    with pytest.raises(DomainError):
        services.open_period(pengurus, local_today() + timedelta(days=1))
    period = services.open_period(pengurus, local_today())
    with pytest.raises(DomainError):
        services.open_period(pengurus, local_today())
    services.close_period(pengurus, period.id)
    with pytest.raises(DomainError):
        services.open_period(pengurus, local_today() - timedelta(days=1))


def test_member_balance_is_what_the_next_statement_will_show(people, make_lot):
    lot = make_lot(quantity=10)
    sell(people, lot, 2)
    balance = services.member_balance(lot.member_id)
    assert (balance.unsettled_gross, balance.member_share) == (30000, 25500)
    close(people)
    assert services.member_balance(lot.member_id).member_share == 0


def test_transparency_counts_and_sums_without_personal_data(people, make_lot):
    lot = make_lot(quantity=10)
    sell(people, lot, 3)
    (payout,) = close(people).payouts
    services.mark_paid(people["pengurus"], payout.id, "bank_transfer", "TRF-9")
    figures = services.transparency()
    assert (figures.units_sold, figures.paid_out, figures.last_settlement) == (3, payout.payable, local_today())
    assert figures.paid_out_by_month[local_today().month - 1] == payout.payable
    assert figures.active_members == 1 and figures.published_products == 1


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sales=st.lists(st.tuples(st.integers(0, 2), st.integers(1, 3), st.booleans()), min_size=1, max_size=12),
       rates=st.lists(st.integers(0, 3000), min_size=3, max_size=3),
       prices=st.lists(st.integers(1, 250_000), min_size=3, max_size=3))
def test_totals_always_reconcile(app, make_user, make_member, make_product, sales, rates, prices):
    """Σ payable + Σ commission + Σ fees = Σ gross over any generated month of sales; the open draft (from the
    daily sales figures) equals the statements the lines make, and nothing is left unsettled after the close."""
    from sqlalchemy import delete

    from consignment.daily import SalesDaily
    from consignment.models import ConsignmentLot, Sale, SaleLine, SaleVoid, StockMovement
    from settlement.models import PayoutAdjustment

    for model in (PayoutPayment, PayoutAdjustment, PayoutLine, Payout, SettlementPeriod, StockMovement, SaleVoid,
                  SaleLine, Sale, ConsignmentLot, SalesDaily):
        db.session.execute(delete(model))
    db.session.commit()
    kasir, pengurus = make_user("kasir"), make_user("pengurus")
    lots = []
    for rate, price in zip(rates, prices):
        member = make_member()
        gerai.create_agreement(pengurus, member_id=member.id, commission_bp=rate, valid_from=local_today())
        lots.append(gerai.receive_lot(kasir, product_id=make_product(member, price=price).id, quantity=100))
    for lot_index, qty, void in sales:
        sale = gerai.record_counter_sale(kasir, [LineRequest(lots[lot_index].id, qty)], "qris")
        if void:
            gerai.void_sale(pengurus, sale.id, "uji")

    def drafts(**how):
        return {d.member.id: (d.gross, d.commission, d.line_count) for d in services.compute_statements(local_today(), **how)}

    assert drafts() == drafts(from_lines=True)
    period = services.close_period(pengurus, services.open_period(pengurus, local_today()).id)
    assert drafts() == {} and sum(p.line_count for p in period.payouts) == db.session.scalar(
        select(func.count()).select_from(PayoutLine))
    gross = db.session.scalar(select(func.coalesce(func.sum(SaleLine.line_total), 0))
                              .where(~SaleLine.sale_id.in_(select(SaleVoid.sale_id))))
    payouts = period.payouts
    assert sum(p.payable + p.commission + p.fees for p in payouts) == gross
    assert all(p.payable == p.gross - p.commission for p in payouts)


def test_a_statement_above_two_billion_rupiah_closes_and_adds_up(make_user, make_product, make_lot):
    """Money columns are 64-bit: 3 × Rp999.999.999 overflowed a 32-bit PostgreSQL integer."""
    pengurus = make_user("pengurus")
    lot = make_lot(make_product(price=999_999_999), quantity=3)
    sale = gerai.record_counter_sale(make_user("kasir"), [LineRequest(lot.id, 3)], "transfer")
    assert sale.total == 2_999_999_997
    period = services.close_period(pengurus, services.open_period(pengurus, local_today()).id)
    payout = period.payouts[0]
    assert payout.gross == 2_999_999_997
    assert payout.payable == payout.gross - payout.commission > 2**31


def test_transparency_counts_published_products_without_counting_the_catalogue(people, make_product, count_queries):
    """The number of products in the shop follows publishing and archiving, read from the public index."""
    from catalog.services import change_status

    products = [make_product(name=f"Produk Toko {i}") for i in range(3)]
    make_product(name="Masih draf", status="draft")
    with count_queries() as n:
        assert services.transparency().published_products == 3
    assert not any("FROM products" in sql for sql in n.statements)
    change_status(products[0].member.user, products[0], "archived")
    assert services.transparency().published_products == 2
