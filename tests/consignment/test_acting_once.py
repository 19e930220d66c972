"""Every form that moves money or stock acts once, however often it is sent: twice in a row (a retry
after a dropped connection, the back button) and twice at once (a double tap reaching two workers).
Runs on SQLite and, in `make test-pg`, on PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from consignment import services
from consignment.models import ConsignmentLot, ReturnSlip, Sale, SaleVoid, StockMovement
from catalog.models import Product
from marketplace.extensions import db
from marketplace.once import new_key
from settlement import services as settlement
from settlement.models import Payout, PayoutPayment, SettlementPeriod
from marketplace.timeutil import local_today
from orders import services as orders
from orders import states
from orders.models import Order


def _count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(model.id)))


@pytest.fixture
def send(send_twice, client, auth):
    """send(user, url, data, at_once=…): the POST sent twice by `user` (signed in on this client)."""

    def send_as(user, url, data, *, at_once: bool):
        assert auth.login(user.email).status_code == 302
        return send_twice(client, url, data, at_once_=at_once)

    return send_as


both_ways = pytest.mark.parametrize("concurrently", [False, True], ids=["in_a_row", "at_once"])


@both_ways
def test_counter_checkout_sent_twice_records_one_sale_and_shows_the_same_receipt(send, make_user, make_lot,
                                                                                concurrently):
    lot = make_lot(quantity=10)
    kasir = make_user("kasir")
    services.add_to_cart(kasir, lot, 3)
    responses = send(kasir, "/gerai/kasir/bayar",
                      {"payment_method": "cash", "cash_received": "50.000", "expected_total": "45000",
                       "once": new_key()}, at_once=concurrently)
    assert _count(Sale) == 1
    sale = db.session.scalar(select(Sale))
    assert [status for status, _location in responses] == [302, 302]
    assert {location for _status, location in responses} == {f"/gerai/penjualan/{sale.id}/struk"}
    assert services.on_hand(lot.id) == 7


def test_an_old_cart_cannot_be_sold_again_with_a_new_form(client, login_as, make_lot):
    """The back button shows the old POS page; even with a fresh key, the cart it showed is gone."""
    lot = make_lot(quantity=10)
    login_as("kasir")
    client.post("/gerai/kasir/tambah", data={"kode": lot.code, "jumlah": "2"})
    assert client.post("/gerai/kasir/bayar", data={"payment_method": "qris", "once": new_key()}).status_code == 302
    again = client.post("/gerai/kasir/bayar", data={"payment_method": "qris", "once": new_key()})
    assert again.status_code == 422 and "sudah tercatat" in again.get_data(as_text=True)
    assert _count(Sale) == 1 and services.on_hand(lot.id) == 8


def test_counter_checkout_refuses_a_cart_changed_in_another_tab(client, login_as, make_lot):
    lot = make_lot(quantity=10)
    kasir = login_as("kasir")
    services.add_to_cart(kasir, lot, 1)
    response = client.post("/gerai/kasir/bayar", data={"payment_method": "cash", "expected_total": "30000",
                                                        "once": new_key()})
    assert response.status_code == 422 and "Rp15.000" in response.get_data(as_text=True)
    assert _count(Sale) == 0
    assert [line.quantity for line in services.cart_lines(kasir)] == [1]  # the cart is kept


def test_a_form_without_its_key_is_refused_with_a_message(client, login_as, make_lot):
    lot = make_lot(quantity=10)
    login_as("kasir")
    client.post("/gerai/kasir/tambah", data={"kode": lot.code})
    response = client.post("/gerai/kasir/bayar", data={"payment_method": "qris"})
    assert response.status_code == 422 and "muat ulang" in response.get_data(as_text=True).lower()
    assert _count(Sale) == 0


@both_ways
def test_intake_sent_twice_records_one_lot(send, make_user, make_product, concurrently):
    product = make_product()
    responses = send(make_user("kasir"), "/gerai/terima",
                      {"product_id": product.id, "quantity": "40", "once": new_key()}, at_once=concurrently)
    assert _count(ConsignmentLot) == 1
    lot = db.session.scalar(select(ConsignmentLot))
    assert {location for _status, location in responses} == {f"/gerai/lot/{lot.code}"}
    assert services.on_hand(lot.id) == 40


def test_intake_of_a_new_product_that_is_refused_leaves_no_orphan_product(client, login_as, make_member):
    member = make_member()
    login_as("kasir")
    response = client.post("/gerai/terima", data={
        "product_id": "", "new_member_id": member.id, "new_name": "Dodol Kandangan", "quantity": "5",
        "unit_price": "20.000", "expiry_date": "2020-01-01", "once": new_key()})
    assert response.status_code == 422
    assert _count(Product) == 0 and _count(ConsignmentLot) == 0


@both_ways
def test_return_sent_twice_records_one_slip(send, make_user, make_lot, concurrently):
    lot = make_lot(quantity=8)
    responses = send(make_user("kasir"), "/gerai/retur",
                      {"anggota": lot.member_id, f"qty-{lot.id}": "5", "once": new_key()}, at_once=concurrently)
    assert _count(ReturnSlip) == 1 and services.on_hand(lot.id) == 3
    assert len({location for _status, location in responses}) == 1


@both_ways
def test_adjustment_sent_twice_records_one_movement(send, make_user, make_lot, concurrently):
    lot = make_lot(quantity=8)
    send(make_user("kasir"), f"/gerai/lot/{lot.code}",
          {"reason": "damaged", "quantity": "2", "note": "kemasan bocor", "once": new_key()}, at_once=concurrently)
    assert services.on_hand(lot.id) == 6
    assert _count(StockMovement) == 2  # the intake and one adjustment


@both_ways
def test_void_sent_twice_voids_once_and_both_see_the_voided_sale(send, make_user, make_lot, concurrently):
    lot = make_lot(quantity=5)
    sale = services.record_counter_sale(make_user("kasir"), [services.LineRequest(lot.id, 2)], "cash")
    responses = send(make_user("pengurus"), f"/gerai/penjualan/{sale.id}",
                      {"reason": "salah scan", "once": new_key()}, at_once=concurrently)
    assert [status for status, _location in responses] == [302, 302]
    assert _count(SaleVoid) == 1 and services.on_hand(lot.id) == 5


def test_service_called_twice_with_one_key_returns_the_first_sale(app, make_user, make_lot):
    lot = make_lot(quantity=5)
    kasir = make_user("kasir")
    key = new_key()
    first = services.record_counter_sale(kasir, [services.LineRequest(lot.id, 1)], "cash", once_key=key)
    second = services.record_counter_sale(kasir, [services.LineRequest(lot.id, 1)], "cash", once_key=key)
    assert first.id == second.id and services.on_hand(lot.id) == 4


def test_a_refused_sale_does_not_use_up_its_key(app, make_user, make_lot):
    """The kasir corrects the form (less cash than the total) and sends it again with the same key."""
    lot = make_lot(quantity=5)
    kasir = make_user("kasir")
    key = new_key()
    with pytest.raises(services.DomainError):
        services.record_counter_sale(kasir, [services.LineRequest(lot.id, 1)], "cash", cash_received=1000,
                                     once_key=key)
    sale = services.record_counter_sale(kasir, [services.LineRequest(lot.id, 1)], "cash", once_key=key)
    assert sale.total == 15000 and services.on_hand(lot.id) == 4


def test_a_key_used_by_someone_else_never_hands_over_their_receipt(app, make_user, make_lot):
    lot = make_lot(quantity=5)
    key = new_key()
    services.record_counter_sale(make_user("kasir"), [services.LineRequest(lot.id, 1)], "cash", once_key=key)
    with pytest.raises(services.DomainError):
        services.record_counter_sale(make_user("kasir"), [services.LineRequest(lot.id, 1)], "cash", once_key=key)
    assert services.on_hand(lot.id) == 4


# --- settlement ---------------------------------------------------------------------------------------

@pytest.fixture
def draft_with_sales(make_user, make_lot):
    lot = make_lot(quantity=10)
    services.record_counter_sale(make_user("kasir"), [services.LineRequest(lot.id, 2)], "cash")
    return settlement.open_period(make_user("pengurus"), local_today())


@both_ways
def test_open_period_sent_twice_opens_one(send, make_user, concurrently):
    responses = send(make_user("pengurus"), "/penyelesaian",
                      {"cutoff_date": local_today().isoformat(), "once": new_key()}, at_once=concurrently)
    assert _count(SettlementPeriod) == 1
    assert [status for status, _location in responses] == [302, 302]


@both_ways
def test_close_period_sent_twice_freezes_one_set_of_statements(send, make_user, draft_with_sales, concurrently):
    send(make_user("pengurus"), f"/penyelesaian/{draft_with_sales.id}/tutup", {"once": new_key()},
          at_once=concurrently)
    assert _count(Payout) == 1


@both_ways
def test_mark_paid_sent_twice_records_one_payment_and_says_paid_both_times(send, make_user, draft_with_sales,
                                                                           concurrently):
    period = settlement.close_period(make_user("pengurus"), draft_with_sales.id)
    payout = period.payouts[0]
    responses = send(make_user("pengurus"), f"/pernyataan/{payout.id}",
                      {"method": "bank_transfer", "reference": "BRI-1", "once": new_key()}, at_once=concurrently)
    assert _count(PayoutPayment) == 1
    assert [status for status, _location in responses] == [302, 302]


# --- online orders --------------------------------------------------------------------------------------

@both_ways
def test_online_checkout_sent_twice_places_one_order_and_both_land_on_it(client, send_twice, make_lot, concurrently):
    lot = make_lot(quantity=10)
    client.post("/keranjang/tambah", data={"product_id": lot.product_id, "jumlah": "2"})
    responses = send_twice(client, "/checkout", {
        "name": "Budi", "phone": "0812 1111 2222", "fulfilment": "pickup", "payment_method": "gerai",
        "once": new_key()}, at_once_=concurrently)
    assert _count(Order) == 1
    order = db.session.scalar(select(Order))
    assert {location for _status, location in responses} == {f"/pesanan/{order.token}"}
    assert services.on_hand(lot.id) == 8


@both_ways
def test_completing_an_order_at_the_counter_sent_twice_makes_one_sale(send, make_user, make_lot, concurrently):
    lot = make_lot(quantity=10)
    order = orders.place_order({lot.product_id: 2}, orders.Customer("Budi", "081211112222"), states.PAY_AT_GERAI)
    responses = send(make_user("kasir"), f"/gerai/pesanan/{order.id}",
                     {"action": "complete", "pay-payment_method": "cash", "pay-cash_received": "50.000",
                      "pay-once": new_key()}, at_once=concurrently)
    assert [status for status, _location in responses] == [302, 302]
    assert _count(Sale) == 1 and services.on_hand(lot.id) == 8
