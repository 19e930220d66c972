"""The lot's balance (on_hand) is kept with every movement and always equals the ledger's SUM; the
`check-ledger` command proves it and names any lot where it does not (also after concurrent races)."""
from sqlalchemy import update

from consignment import services
from consignment.models import ConsignmentLot
from consignment.services import LineRequest
from marketplace.extensions import db
from tests.consignment.test_concurrency import _race


def _balance(lot_id):
    db.session.expire_all()
    return db.session.get(ConsignmentLot, lot_id).on_hand


def test_every_kind_of_movement_keeps_the_balance_equal_to_the_ledger(make_user, make_lot, runner):
    kasir, pengurus = make_user("kasir"), make_user("pengurus")
    lot = make_lot(quantity=10)
    assert _balance(lot.id) == 10
    sale = services.record_counter_sale(kasir, [LineRequest(lot.id, 3)], "cash")
    assert _balance(lot.id) == 7
    services.void_sale(pengurus, sale.id, "salah hitung")
    services.return_to_member(kasir, lot.member_id, [LineRequest(lot.id, 2)])
    services.adjust_stock(kasir, lot.id, 1, "damaged", "kemasan sobek")
    assert _balance(lot.id) == 10 - 2 - 1 == services.on_hand(lot.id)
    assert services.ledger_mismatches() == []
    result = runner.invoke(args=["check-ledger"])
    assert result.exit_code == 0, result.output
    assert "Ledger OK" in result.output


def test_a_refused_sale_leaves_the_balance_untouched(make_user, make_lot):
    kasir = make_user("kasir")
    lot = make_lot(quantity=2)
    try:
        services.record_counter_sale(kasir, [LineRequest(lot.id, 3)], "cash")
    except services.DomainError:
        pass
    assert _balance(lot.id) == 2
    assert services.ledger_mismatches() == []


def test_check_ledger_exits_non_zero_naming_a_lot_whose_balance_differs(make_lot, runner):
    good, bad = make_lot(quantity=4), make_lot(quantity=5)
    db.session.execute(update(ConsignmentLot).where(ConsignmentLot.id == bad.id).values(on_hand=9))
    db.session.commit()
    result = runner.invoke(args=["check-ledger"])
    assert result.exit_code == 1
    assert f"lot {bad.code} (id {bad.id}): balance 9, ledger 5" in result.output
    assert good.code not in result.output
    repaired = runner.invoke(args=["check-ledger", "--repair"])
    assert repaired.exit_code == 0, repaired.output
    assert _balance(bad.id) == 5


def test_balances_equal_the_ledger_after_concurrent_sales_and_returns(app, make_user, make_lot, runner):
    lots = [make_lot(quantity=5), make_lot(quantity=3)]
    kasir = [make_user("kasir").id for _ in range(4)]

    def act(user):
        if user.id == kasir[0]:
            services.return_to_member(user, lots[0].member_id, [LineRequest(lots[0].id, 2)])
        else:
            services.record_counter_sale(user, [LineRequest(lots[1].id, 1), LineRequest(lots[0].id, 1)], "cash")

    outcomes = _race(app, kasir, act, attempts_per_user=3)
    assert "sold" in outcomes and "refused" in outcomes
    db.session.expire_all()
    assert all(services.on_hand(lot.id) >= 0 for lot in lots)
    result = runner.invoke(args=["check-ledger"])
    assert result.exit_code == 0, result.output
