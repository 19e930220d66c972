"""The order state machine: one table of transitions, compare-and-set moves, side effects only for the winner."""
import pytest
from sqlalchemy import func, select

from consignment import services as gerai
from consignment.models import KIND_INTAKE, Sale, SaleLine, StockMovement
from marketplace.extensions import db
from orders import services as orders
from orders import states
from orders.models import Order, OrderEvent

SHOPPER = orders.Customer(name="Budi Pembeli", phone="0812 1111 2222")


def notify(client, payload):
    return client.post("/payments/midtrans/notification", json=payload)


def stock_drift(lot) -> int:
    """Stock on hand minus (intake - units sold): 0 when every sold unit left the shelf exactly once."""
    intake = db.session.scalar(select(func.sum(StockMovement.quantity)).where(
        StockMovement.lot_id == lot.id, StockMovement.kind == KIND_INTAKE))
    sold = db.session.scalar(select(func.coalesce(func.sum(SaleLine.quantity), 0)).where(SaleLine.lot_id == lot.id))
    return gerai.on_hand(lot.id) - (intake - sold)


def test_ten_concurrent_late_settlements_make_exactly_one_sale(app, client, midtrans_stub, make_lot, make_product,
                                                                  at_once):
    lot = make_lot(make_product(price=15000), quantity=3)
    order = orders.place_order({lot.product_id: 1}, SHOPPER, states.PAY_ONLINE)
    midtrans_stub.set_status(order, "expire")
    assert notify(client, midtrans_stub.notification(order, "expire")).json["order_status"] == states.EXPIRED
    midtrans_stub.set_status(order, "settlement")
    payload = midtrans_stub.notification(order, "settlement")

    answers = at_once(*[lambda: notify(app.test_client(), payload) for _ in range(10)])

    assert [(a.status_code, a.json["order_status"]) for a in answers] == [(200, states.PAID)] * 10
    paid = db.session.get(Order, order.id)
    assert paid.status == states.PAID and paid.sale_id is not None
    assert db.session.scalar(select(func.count(Sale.id))) == 1
    assert db.session.scalar(select(func.sum(SaleLine.quantity))) == 1
    assert stock_drift(lot) == 0 and gerai.on_hand(lot.id) == 2
    moves = db.session.scalars(select(OrderEvent.to_status).where(OrderEvent.order_id == order.id)
                               .order_by(OrderEvent.id)).all()
    assert moves == [states.PENDING, states.EXPIRED, states.PAID]


def test_ten_concurrent_late_settlements_with_the_stock_gone_flag_one_refund_and_sell_nothing(
        app, client, midtrans_stub, make_user, make_lot, make_product, at_once):
    lot = make_lot(make_product(price=15000), quantity=1)
    order = orders.place_order({lot.product_id: 1}, SHOPPER, states.PAY_ONLINE)
    midtrans_stub.set_status(order, "expire")
    notify(client, midtrans_stub.notification(order, "expire"))
    gerai.record_counter_sale(make_user("kasir"), [gerai.LineRequest(lot.id, 1)], "cash")
    midtrans_stub.set_status(order, "settlement")
    payload = midtrans_stub.notification(order, "settlement")

    answers = at_once(*[lambda: notify(app.test_client(), payload) for _ in range(10)])

    assert {a.json["order_status"] for a in answers} == {states.REFUND_NEEDED}
    assert db.session.scalar(select(func.count(Sale.id))) == 1  # the counter's only
    assert stock_drift(lot) == 0 and gerai.on_hand(lot.id) == 0
    assert db.session.scalar(select(func.count(OrderEvent.id)).where(
        OrderEvent.order_id == order.id, OrderEvent.to_status == states.REFUND_NEEDED)) == 1


def test_capture_with_an_empty_fraud_status_is_not_paid(client, midtrans_stub, make_lot, make_product):
    lot = make_lot(make_product(), quantity=3)
    order = orders.place_order({lot.product_id: 1}, SHOPPER, states.PAY_ONLINE)
    midtrans_stub.set_status(order, "capture", fraud_status="")
    assert notify(client, midtrans_stub.notification(order, "capture", "")).json["order_status"] == states.PENDING
    assert db.session.scalar(select(func.count(Sale.id))) == 0


def test_a_status_answer_without_gross_amount_is_not_paid(client, midtrans_stub, make_lot, make_product):
    lot = make_lot(make_product(), quantity=3)
    order = orders.place_order({lot.product_id: 1}, SHOPPER, states.PAY_ONLINE)
    payload = midtrans_stub.notification(order, "settlement")  # signed with the amount...
    del midtrans_stub.set_status(order, "settlement")["gross_amount"]  # ...but the status API leaves it out
    assert notify(client, payload).json["order_status"] == states.PENDING
    assert db.session.scalar(select(func.count(Sale.id))) == 0


@pytest.mark.parametrize("method", states.PAYMENT_METHODS)
def test_each_action_moves_an_order_only_from_the_statuses_its_table_allows(make_lot, make_product, method):
    lot = make_lot(make_product(), quantity=3)
    order = orders.place_order({lot.product_id: 1}, SHOPPER, states.PAY_AT_GERAI)
    db.session.execute(Order.__table__.update().values(payment_method=method))
    db.session.commit()
    actions = {action for table in states.TRANSITIONS.values() for action in table}
    for status in states.STATUSES:
        for action in actions:
            db.session.execute(Order.__table__.update().where(Order.id == order.id).values(status=status))
            db.session.commit()
            db.session.refresh(order)
            moved = orders._move(order, action, actor=None)
            db.session.rollback()
            from_statuses, to_status = states.rule(method, action)
            assert moved == (status in from_statuses), (method, status, action)
            assert order.can(action) == (status in from_statuses)


def test_staff_order_page_offers_exactly_what_the_machine_allows(client, login_as, make_lot, make_product):
    lot = make_lot(make_product(), quantity=3)
    order = orders.place_order({lot.product_id: 1}, SHOPPER, states.PAY_AT_GERAI)
    login_as("kasir")
    page = client.get(f"/gerai/pesanan/{order.id}").get_data(as_text=True)
    assert 'value="ready"' in page and 'value="complete"' in page and 'value="cancel"' in page
    assert 'value="deliver"' not in page
    client.post(f"/gerai/pesanan/{order.id}", data={"action": "cancel", "cancel-reason": "pembeli batal"})
    page = client.get(f"/gerai/pesanan/{order.id}").get_data(as_text=True)
    assert not any(f'value="{a}"' in page for a in ("ready", "complete", "cancel", "deliver"))
