"""Nobody can lock the shelf: the shopper limits hold against the 'reserve everything' attack, and a
normal shopper is never blocked. Defaults from marketplace/config.py unless a test says otherwise."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from consignment import services as gerai
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.once import new_key
from marketplace.timeutil import utcnow
from orders import services as orders
from orders import states
from orders.models import Order, OrderLine


def checkout(app, product_ids, qty, phone, ip, **extra):
    """One anonymous visitor's cart and checkout, as the attacker sent them."""
    client = app.test_client()
    for product_id in product_ids:
        client.post("/keranjang/tambah", data={"product_id": product_id, "jumlah": str(qty)},
                    environ_base={"REMOTE_ADDR": ip})
    data = {"name": "Pembeli", "phone": phone, "fulfilment": "pickup", "address": "", "notes": "",
            "payment_method": "gerai", "once": new_key(), **extra}
    return client.post("/checkout", data=data, environ_base={"REMOTE_ADDR": ip})


def held(product_id) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(OrderLine.quantity), 0)).join(Order).where(
        OrderLine.product_id == product_id, Order.status.in_((states.PENDING, states.READY))))


@pytest.fixture
def shelf(make_lot, make_product):
    """Three products, 552 units in all (like the attacked shop)."""
    products = [make_product(name=f"Produk {n}", price=10000) for n in range(3)]
    for product, quantity in zip(products, (400, 100, 52)):
        make_lot(product, quantity=quantity)
    return products


def test_the_shelf_lock_attack_reserves_at_most_the_configured_share_and_the_counter_still_sells(
        app, shelf, make_user):
    ids = [p.id for p in shelf]
    # The literal attack: 36 orders of 99 units each, every one from another number (and address).
    for n in range(36):
        checkout(app, ids, 99, f"0812{n:08d}", f"10.0.{n}.1")
    assert db.session.scalar(select(func.count(Order.id))) == 0  # 99 is above the per-order cap
    # The attacker adapts: the most one order may take, from many numbers and addresses.
    for n in range(36):
        checkout(app, ids, app.config["ORDER_MAX_PER_PRODUCT"], f"0813{n:08d}", f"10.1.{n}.1")
    share = app.config["ORDER_HOLD_SHARE_PERCENT"]
    for product, units in zip(shelf, (400, 100, 52)):
        assert 0 < held(product.id) <= units * share // 100
    lot = gerai.lots_overview()[-1]  # the smallest product: 52 units
    sale = gerai.record_counter_sale(make_user("kasir"), [gerai.LineRequest(lot.id, 30)], "cash")
    assert sale.total == 300000


def test_one_client_address_is_limited_to_a_few_checkouts_per_window(app, shelf):
    limit = app.config["CHECKOUT_MAX_PER_IP"]
    answers = [checkout(app, [shelf[0].id], 1, f"0812{n:08d}", "10.9.9.9") for n in range(limit + 2)]
    assert [a.status_code for a in answers] == [302] * limit + [422, 422]
    assert "Terlalu banyak pesanan dari koneksi Anda" in answers[-1].get_data(as_text=True)
    assert checkout(app, [shelf[0].id], 1, "081299999999", "10.9.9.10").status_code == 302  # another address
    db.session.execute(Order.__table__.update().values(created_at=utcnow() - timedelta(minutes=61)))
    db.session.commit()
    assert checkout(app, [shelf[0].id], 1, "081288888888", "10.9.9.9").status_code == 302  # window passed


def test_one_whatsapp_number_holds_only_a_few_unpaid_orders_however_it_is_written(app, shelf):
    limit = app.config["ORDER_MAX_OPEN_PER_PHONE"]
    spellings = ["0812-1111-2222", "0812 1111 2222", "+62 812 1111 2222", "(0812)11112222"]
    for n in range(limit):
        orders.place_order({shelf[0].id: 1}, orders.Customer("Budi", spellings[n % 4]), states.PAY_AT_GERAI)
    with pytest.raises(DomainError, match="belum dibayar") as refused:
        orders.place_order({shelf[0].id: 1}, orders.Customer("Budi", spellings[-1]), states.PAY_AT_GERAI)
    assert refused.value.field == "phone"


def test_one_delivery_address_holds_only_a_few_unpaid_orders(app, shelf):
    limit = app.config["ORDER_MAX_OPEN_PER_ADDRESS"]
    for n in range(limit):
        orders.place_order({shelf[0].id: 1}, orders.Customer("Budi", f"0812{n:08d}", "delivery",
                                                             "Jl. Merdeka No. 5, Banjarbaru"), states.PAY_AT_GERAI)
    with pytest.raises(DomainError) as refused:
        orders.place_order({shelf[0].id: 1}, orders.Customer("Budi", "081299999999", "delivery",
                                                             "jl merdeka no 5   banjarbaru"), states.PAY_AT_GERAI)
    assert refused.value.field == "address"


def test_concurrent_checkouts_cannot_hold_more_than_the_share(app, make_lot, make_product, at_once):
    product = make_product(price=10000)
    make_lot(product, quantity=20)  # 25 % of 20 = 5 units may be held unconfirmed
    product_id = product.id  # plain values into the threads, not the test's ORM objects

    def place(n):
        return lambda: orders.place_order({product_id: 2}, orders.Customer("Budi", f"0812{n:08d}"),
                                          states.PAY_AT_GERAI).id

    outcomes = at_once(*[place(n) for n in range(8)])
    placed = [o for o in outcomes if isinstance(o, int)]
    assert len(placed) == 2, outcomes
    assert all(isinstance(o, DomainError) for o in outcomes if o not in placed), outcomes
    assert held(product.id) == 4


def test_a_normal_shopper_with_two_packs_is_never_blocked(client, make_lot, make_product):
    small = make_product(name="Amplang", price=12000)
    make_lot(small, quantity=3)  # even a product with little stock
    client.post("/keranjang/tambah", data={"product_id": small.id, "jumlah": "2"})
    response = client.post("/checkout", data={"name": "Siti", "phone": "0812 3456 7890", "fulfilment": "delivery",
                                              "address": "Jl. Ahmad Yani km 4, Banjarmasin", "payment_method": "gerai",
                                              "once": new_key()})
    assert response.status_code == 302
    assert db.session.scalar(select(Order.status)) == states.PENDING


def test_pay_at_gerai_holds_briefly_until_the_gerai_confirms_and_confirmed_orders_leave_the_share(
        app, make_lot, make_product, make_user):
    product = make_product(price=10000)
    make_lot(product, quantity=8)  # share: 2 units
    order = orders.place_order({product.id: 2}, orders.Customer("Budi", "081211112222"), states.PAY_AT_GERAI)
    assert order.expires_at - order.created_at == timedelta(hours=app.config["GERAI_CONFIRM_HOURS"])
    with pytest.raises(DomainError, match="tidak dapat dipesan daring"):
        orders.place_order({product.id: 1}, orders.Customer("Siti", "081233334444"), states.PAY_AT_GERAI)
    confirmed = orders.mark_ready(make_user("kasir"), order.id)
    assert confirmed.expires_at - utcnow() > timedelta(hours=app.config["GERAI_RESERVATION_HOURS"] - 1)
    orders.place_order({product.id: 2}, orders.Customer("Siti", "081233334444"), states.PAY_AT_GERAI)


def test_more_than_the_per_order_cap_is_refused_with_a_clear_message(client, make_lot, make_product):
    product = make_product(name="Kerupuk Haruan")
    make_lot(product, quantity=50)
    client.post("/keranjang/tambah", data={"product_id": product.id, "jumlah": "11"})
    page = client.post("/checkout", data={"name": "Siti", "phone": "081234567890", "fulfilment": "pickup",
                                          "payment_method": "gerai", "once": new_key()}).get_data(as_text=True)
    assert "Paling banyak 10 Kerupuk Haruan untuk satu pesanan daring" in page
