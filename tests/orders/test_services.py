"""Online orders and Midtrans payments, through midtransclient's real code against a local stand-in."""
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from consignment import services as gerai
from consignment.models import Sale, SaleLine, SaleVoid
from consignment.services import LineRequest
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.models import User
from orders import midtrans
from orders import services as orders
from orders.models import Order, PaymentEvent

SHOPPER = orders.Customer(name="Budi Pembeli", phone="0812 1111 2222")
FINISH = "http://toko.test/pesanan/x"


@pytest.fixture(autouse=True)
def no_hold_share(app):
    """These tests are about payments and stock, not the shopper limits (tests/orders/test_limits.py)."""
    app.config["ORDER_HOLD_SHARE_PERCENT"] = 100


@pytest.fixture
def lot(make_lot, make_product):
    return make_lot(make_product(name="Keripik Pisang Kepok", price=15000), quantity=5)


def available(lot):
    return gerai.on_hand(lot.id)


def order_for(lot, qty=2, method="gerai"):
    return orders.place_order({lot.product_id: qty}, SHOPPER, method)


def notify(client, payload):
    return client.post("/payments/midtrans/notification", json=payload)


# --- placing and reserving -------------------------------------------------------------------------

def test_placing_an_order_reserves_stock_until_it_is_paid(lot):
    order = order_for(lot, 2)
    assert (order.status, order.total, order.number.startswith("PK")) == ("pending", 30000, True)
    assert available(lot) == 3
    assert db.session.scalar(select(func.count(SaleLine.id))) == 0  # not sold yet


def test_order_takes_the_oldest_lots_first_and_can_span_lots(make_lot, make_product):
    product = make_product(price=10000)
    old, new = make_lot(product, quantity=2), make_lot(product, quantity=5)
    order = orders.place_order({product.id: 4}, SHOPPER, "gerai")
    assert sorted((line.lot_id, line.quantity) for line in order.lines) == sorted([(old.id, 2), (new.id, 2)])


def test_ordering_more_than_available_is_refused_and_reserves_nothing(lot):
    with pytest.raises(DomainError, match="5"):
        order_for(lot, 6)
    assert available(lot) == 5 and db.session.scalar(select(func.count(Order.id))) == 0


def test_counter_cannot_sell_units_reserved_for_an_order(make_user, lot):
    order_for(lot, 5)
    with pytest.raises(DomainError):
        gerai.record_counter_sale(make_user("kasir"), [LineRequest(lot.id, 1)], "cash")


def test_online_order_and_counter_sale_race_for_the_last_unit(app, make_user, make_lot, make_product):
    lot = make_lot(make_product(price=15000), quantity=1)
    kasir_id, outcomes, barrier = make_user("kasir").id, [], threading.Barrier(2)

    def counter():
        with app.app_context():
            barrier.wait(timeout=30)
            try:
                gerai.record_counter_sale(db.session.get(User, kasir_id), [LineRequest(lot.id, 1)], "cash")
                outcomes.append("counter")
            except DomainError:
                outcomes.append("counter refused")
            db.session.remove()

    def online():
        with app.app_context():
            barrier.wait(timeout=30)
            try:
                orders.place_order({lot.product_id: 1}, SHOPPER, "gerai")
                outcomes.append("online")
            except DomainError:
                outcomes.append("online refused")
            db.session.remove()

    threads = [threading.Thread(target=counter), threading.Thread(target=online)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) in (["counter", "online refused"], ["counter refused", "online"])
    db.session.expire_all()
    assert gerai.on_hand(lot.id) == 0


def test_without_a_server_key_only_pay_at_gerai_is_offered(app, lot):
    app.config["MIDTRANS_SERVER_KEY"] = ""
    with pytest.raises(DomainError):
        order_for(lot, 1, "midtrans")


# --- paying at the gerai ---------------------------------------------------------------------------

def test_pay_at_gerai_order_is_completed_at_the_counter_as_a_sale(make_user, lot):
    order = order_for(lot, 2)
    orders.mark_ready(make_user("kasir"), order.id)
    done = orders.complete_at_counter(make_user("kasir"), order.id, "cash", cash_received=50000)
    sale = db.session.get(Sale, done.sale_id)
    assert (done.status, sale.channel, sale.total, sale.change) == ("completed", "online", 30000, 20000)
    assert [(l.lot_id, l.quantity, l.unit_price) for l in sale.lines] == [(lot.id, 2, 15000)]
    assert available(lot) == 3
    kinds = [m.kind for m in gerai.lot_movements(lot.id)]
    assert kinds == ["intake", "reserve", "release", "online_sale"]


def test_cancelled_order_returns_its_stock(make_user, lot):
    order = order_for(lot, 3)
    orders.cancel_order(make_user("kasir"), order.id, "pembeli tidak jadi")
    assert available(lot) == 5
    with pytest.raises(DomainError):
        orders.complete_at_counter(make_user("kasir"), order.id, "cash")


def test_unpaid_order_expires_and_its_stock_returns(lot):
    order = order_for(lot, 4)
    db.session.execute(update(Order).where(Order.id == order.id).values(expires_at=order.created_at - timedelta(1)))
    db.session.commit()
    assert orders.expire_stale_orders().expired == 1
    assert db.session.get(Order, order.id).status == "expired" and available(lot) == 5
    assert orders.expire_stale_orders().expired == 0


# --- Midtrans --------------------------------------------------------------------------------------

def test_snap_transaction_is_created_through_midtransclient(midtrans_stub, lot):
    order = order_for(lot, 2, "midtrans")
    url = orders.start_online_payment(order, FINISH)
    assert url.endswith(f"tok-{order.number}")
    sent = midtrans_stub.created[0]
    assert sent["transaction_details"] == {"order_id": order.number, "gross_amount": 30000}
    assert sum(i["price"] * i["quantity"] for i in sent["item_details"]) == 30000
    assert midtrans_stub.auth_headers[0].startswith("Basic ")
    assert orders.start_online_payment(order, FINISH) == url and len(midtrans_stub.created) == 1  # reused, not recreated


def test_valid_settlement_notification_pays_once_however_often_it_arrives(client, midtrans_stub, lot):
    order = order_for(lot, 2, "midtrans")
    midtrans_stub.set_status(order, "settlement")
    for _ in range(3):
        response = notify(client, midtrans_stub.notification(order, "settlement"))
        assert response.status_code == 200 and response.json["order_status"] == "paid"
    db.session.expire_all()
    paid = db.session.get(Order, order.id)
    assert paid.status == "paid" and paid.sale_id is not None
    assert db.session.scalar(select(func.count(Sale.id))) == 1
    assert db.session.scalar(select(func.count(PaymentEvent.id))) == 1
    assert available(lot) == 3
    assert db.session.get(Sale, paid.sale_id).lines[0].commission == gerai.commission_amount(30000, lot.commission_bp)


def test_forged_notification_is_rejected_with_403_and_changes_nothing(client, midtrans_stub, lot):
    order = order_for(lot, 2, "midtrans")
    midtrans_stub.set_status(order, "settlement")
    forged = midtrans_stub.notification(order, "settlement", key="not-the-server-key")
    assert notify(client, forged).status_code == 403
    tampered = midtrans_stub.notification(order, "settlement")
    tampered["gross_amount"] = "1.00"
    assert notify(client, tampered).status_code == 403
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "pending"


def test_notification_body_is_not_trusted_the_status_api_decides(client, midtrans_stub, lot):
    order = order_for(lot, 1, "midtrans")
    midtrans_stub.set_status(order, "pending")
    signed_but_optimistic = midtrans_stub.notification(order, "settlement")
    midtrans_stub.statuses[order.number]["transaction_status"] = "pending"
    assert notify(client, signed_but_optimistic).json["order_status"] == "pending"


def test_out_of_order_expire_after_settlement_never_unpays(client, midtrans_stub, lot):
    order = order_for(lot, 2, "midtrans")
    midtrans_stub.set_status(order, "settlement")
    notify(client, midtrans_stub.notification(order, "settlement"))
    midtrans_stub.set_status(order, "expire")
    assert notify(client, midtrans_stub.notification(order, "expire")).json["order_status"] == "paid"
    midtrans_stub.set_status(order, "pending")
    assert notify(client, midtrans_stub.notification(order, "pending")).json["order_status"] == "paid"
    assert available(lot) == 3


def test_expire_notification_releases_the_reservation(client, midtrans_stub, lot):
    order = order_for(lot, 2, "midtrans")
    midtrans_stub.set_status(order, "expire")
    assert notify(client, midtrans_stub.notification(order, "expire")).json["order_status"] == "expired"
    assert available(lot) == 5


def test_settlement_after_expiry_takes_stock_again_if_it_is_still_there(client, midtrans_stub, lot):
    order = order_for(lot, 2, "midtrans")
    midtrans_stub.set_status(order, "expire")
    notify(client, midtrans_stub.notification(order, "expire"))
    midtrans_stub.set_status(order, "settlement")
    assert notify(client, midtrans_stub.notification(order, "settlement")).json["order_status"] == "paid"
    assert available(lot) == 3


def test_settlement_after_expiry_when_stock_is_gone_is_flagged_for_refund(client, midtrans_stub, make_user, lot):
    order = order_for(lot, 2, "midtrans")
    midtrans_stub.set_status(order, "expire")
    notify(client, midtrans_stub.notification(order, "expire"))
    gerai.record_counter_sale(make_user("kasir"), [LineRequest(lot.id, 5)], "cash")
    midtrans_stub.set_status(order, "settlement")
    assert notify(client, midtrans_stub.notification(order, "settlement")).json["order_status"] == "refund_needed"
    assert available(lot) == 0


def test_capture_under_fraud_challenge_waits_and_deny_cancels(client, midtrans_stub, lot):
    order = order_for(lot, 1, "midtrans")
    midtrans_stub.set_status(order, "capture", fraud_status="challenge")
    assert notify(client, midtrans_stub.notification(order, "capture", "challenge")).json["order_status"] == "pending"
    midtrans_stub.set_status(order, "deny", fraud_status="deny")
    assert notify(client, midtrans_stub.notification(order, "deny", "deny")).json["order_status"] == "cancelled"
    assert available(lot) == 5


def test_refund_voids_the_online_sale_so_settlement_can_correct_it(client, midtrans_stub, lot):
    order = order_for(lot, 2, "midtrans")
    midtrans_stub.set_status(order, "settlement")
    notify(client, midtrans_stub.notification(order, "settlement"))
    midtrans_stub.set_status(order, "refund")
    assert notify(client, midtrans_stub.notification(order, "refund")).json["order_status"] == "refunded"
    assert db.session.scalar(select(func.count(SaleVoid.id))) == 1
    assert available(lot) == 5


def test_amount_mismatch_from_the_gateway_is_not_accepted(client, midtrans_stub, lot):
    order = order_for(lot, 2, "midtrans")
    midtrans_stub.set_status(order, "settlement", gross_amount=1000)
    notify(client, midtrans_stub.notification(order, "settlement"))
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "pending"


def test_gateway_failure_or_timeout_leaves_the_order_recoverable(app, midtrans_stub, lot):
    order = order_for(lot, 2, "midtrans")
    midtrans_stub.fail_next_create = True
    with pytest.raises(midtrans.GatewayError):
        orders.start_online_payment(order, FINISH)
    app.config["MIDTRANS_TIMEOUT"] = 0.3
    midtrans_stub.delay_seconds = 1.0
    with pytest.raises(midtrans.GatewayError):
        orders.start_online_payment(order, FINISH)
    midtrans_stub.delay_seconds = 0
    db.session.refresh(order)
    assert order.status == "pending" and available(lot) == 3
    assert orders.start_online_payment(order, FINISH).endswith(f"tok-{order.number}")


def test_expiry_asks_midtrans_first_so_a_lost_notification_does_not_cancel_a_paid_order(midtrans_stub, lot):
    order = order_for(lot, 2, "midtrans")
    db.session.execute(update(Order).where(Order.id == order.id).values(expires_at=order.created_at - timedelta(1)))
    db.session.commit()
    midtrans_stub.set_status(order, "settlement")
    assert orders.expire_stale_orders().expired == 0
    assert db.session.get(Order, order.id).status == "paid"


def test_paid_online_sale_is_settled_like_a_counter_sale(client, midtrans_stub, make_user, lot):
    from marketplace.timeutil import local_today
    from settlement import services as settlement

    order = order_for(lot, 2, "midtrans")
    midtrans_stub.set_status(order, "settlement")
    notify(client, midtrans_stub.notification(order, "settlement"))
    pengurus = make_user("pengurus")
    period = settlement.close_period(pengurus, settlement.open_period(pengurus, local_today()).id)
    assert [(p.member_id, p.gross) for p in period.payouts] == [(lot.member_id, 30000)]


def test_short_cash_for_a_gerai_order_is_refused_in_rupiah(make_user, lot):
    order = order_for(lot, 2)
    with pytest.raises(DomainError) as exc:
        orders.complete_at_counter(make_user("kasir"), order.id, "cash", cash_received=20000)
    assert "Rp20.000" in exc.value.message and "Rp30.000" in exc.value.message
    assert db.session.get(Order, order.id).status == "pending" and available(lot) == 3
