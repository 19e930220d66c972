"""Request tests for the cart, checkout, order pages, notifications endpoint and staff order pages."""
import pytest
from sqlalchemy import delete, select

from marketplace.extensions import db
from marketplace.once import new_key
from orders import services as orders
from orders.models import Order


@pytest.fixture
def stocked(make_lot, make_product, make_member):
    member = make_member(business_name="Wadai Banjar Hj. Aluh")
    product = make_product(member, name="Bingka Kentang", price=45000, photos=1)
    make_lot(product, quantity=3)
    return product


def checkout_data(**overrides):
    data = {"name": "Budi", "phone": "0812 1111 2222", "fulfilment": "pickup", "address": "", "notes": "",
            "payment_method": "gerai", "once": new_key()}
    data.update(overrides)
    return data


def test_product_page_shows_availability_cart_button_and_share_tags(client, stocked):
    page = client.get(f"/produk/{stocked.slug}").get_data(as_text=True)
    assert "Tersedia" in page and "Masukkan keranjang" in page
    assert 'property="og:title"' in page and 'property="og:image"' in page and 'name="twitter:card"' in page
    assert '"@type": "Product"' in page and '"priceCurrency": "IDR"' in page and '"price": 45000' in page


def test_out_of_stock_product_has_no_cart_button_and_a_badge_in_lists(client, make_product):
    product = make_product(name="Tanpa Stok")
    page = client.get(f"/produk/{product.slug}").get_data(as_text=True)
    assert "Stok habis" in page and "Masukkan keranjang" not in page and "OutOfStock" in page
    assert "Stok habis" in client.get("/produk").get_data(as_text=True)


def test_whatsapp_order_link_carries_the_product(client, stocked, app):
    from marketplace.models import Cooperative

    db.session.add(Cooperative(name="Kop", whatsapp="6281234567890"))
    db.session.commit()
    page = client.get(f"/produk/{stocked.slug}").get_data(as_text=True)
    assert "https://wa.me/6281234567890?text=Halo%2C%20saya%20ingin%20memesan%20Bingka%20Kentang" in page


def test_cart_to_pay_at_gerai_order_page(client, stocked):
    client.post("/keranjang/tambah", data={"product_id": stocked.id, "jumlah": "2"})
    cart = client.get("/keranjang").get_data(as_text=True)
    assert "Bingka Kentang" in cart and "Rp90.000" in cart
    response = client.post("/checkout", data=checkout_data())
    order = db.session.scalar(select(Order))
    assert response.headers["Location"].endswith(f"/pesanan/{order.token}")
    page = client.get(f"/pesanan/{order.token}").get_data(as_text=True)
    assert "Menunggu pembayaran" in page and "Rp90.000" in page
    assert "Keranjang Anda kosong" in client.get("/keranjang").get_data(as_text=True)


def test_checkout_keeps_what_was_typed_when_the_phone_is_wrong(client, stocked):
    client.post("/keranjang/tambah", data={"product_id": stocked.id})
    response = client.post("/checkout", data=checkout_data(phone="12", notes="tanpa plastik"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'value="Budi"' in page and "tanpa plastik" in page
    assert db.session.scalar(select(Order)) is None


def test_checkout_says_when_stock_ran_out_meanwhile(client, stocked, make_user):
    from consignment import services as gerai

    client.post("/keranjang/tambah", data={"product_id": stocked.id, "jumlah": "3"})
    lot = gerai.lots_overview()[0]
    gerai.record_counter_sale(make_user("kasir"), [gerai.LineRequest(lot.id, 2)], "cash")
    page = client.post("/checkout", data=checkout_data()).get_data(as_text=True)
    assert "hanya tersedia 1" in page


def test_without_midtrans_key_checkout_offers_gerai_only(client, stocked):
    client.post("/keranjang/tambah", data={"product_id": stocked.id})
    page = client.get("/checkout").get_data(as_text=True)
    assert "Pembayaran daring belum tersedia" in page and 'value="midtrans"' not in page


def test_online_checkout_redirects_to_snap(client, stocked, midtrans_stub):
    client.post("/keranjang/tambah", data={"product_id": stocked.id})
    response = client.post("/checkout", data=checkout_data(payment_method="midtrans"))
    order = db.session.scalar(select(Order))
    assert response.headers["Location"] == f"{midtrans_stub.url}/snap/v4/redirection/tok-{order.number}"


def test_failed_snap_call_lands_on_the_order_page_with_a_retry(client, stocked, midtrans_stub):
    client.post("/keranjang/tambah", data={"product_id": stocked.id})
    midtrans_stub.fail_next_create = True
    response = client.post("/checkout", data=checkout_data(payment_method="midtrans"))
    order = db.session.scalar(select(Order))
    assert response.headers["Location"].endswith(f"/pesanan/{order.token}")
    midtrans_stub.set_status(order, "pending")
    page = client.get(f"/pesanan/{order.token}").get_data(as_text=True)
    assert "Bayar sekarang" in page
    retry = client.post(f"/pesanan/{order.token}/bayar")
    assert retry.headers["Location"].endswith(f"tok-{order.number}")


def test_returning_from_snap_the_shopper_checks_the_payment_with_a_post(client, stocked, midtrans_stub):
    order = orders.place_order({stocked.id: 1}, orders.Customer("Budi", "081211112222"), "midtrans")
    midtrans_stub.set_status(order, "settlement")
    page = client.get(f"/pesanan/{order.token}").get_data(as_text=True)
    assert "Menunggu pembayaran" in page and "cek pembayaran" in page.lower()  # a GET reads only
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "pending"
    response = client.post(f"/pesanan/{order.token}/cek")
    assert response.headers["Location"].endswith(f"/pesanan/{order.token}")
    assert "Dibayar" in client.get(f"/pesanan/{order.token}").get_data(as_text=True)


def test_order_page_is_unguessable_and_not_indexed(client, stocked):
    order = orders.place_order({stocked.id: 1}, orders.Customer("Budi", "081211112222"), "gerai")
    assert len(order.token) >= 32
    assert client.get("/pesanan/tebak-tebakan").status_code == 404
    response = client.get(f"/pesanan/{order.token}")
    assert response.headers["X-Robots-Tag"] == "noindex" and "no-store" in response.headers["Cache-Control"]


def test_notification_endpoint_needs_no_csrf_but_a_signature(app_config, stocked, midtrans_stub, app):
    from marketplace import create_app

    secured = create_app({**app_config, "WTF_CSRF_ENABLED": True, **{k: app.config[k] for k in (
        "MIDTRANS_SERVER_KEY", "MIDTRANS_SNAP_BASE_URL", "MIDTRANS_API_BASE_URL")}})
    order = orders.place_order({stocked.id: 1}, orders.Customer("Budi", "081211112222"), "midtrans")
    midtrans_stub.set_status(order, "settlement")
    client = secured.test_client()
    assert client.post("/payments/midtrans/notification", json={"order_id": order.number}).status_code == 403
    ok = client.post("/payments/midtrans/notification", json=midtrans_stub.notification(order, "settlement"))
    assert ok.status_code == 200 and ok.json["order_status"] == "paid"
    assert client.post("/payments/midtrans/notification", data="not json").status_code == 400


def test_kasir_marks_an_order_ready_from_its_page(client, login_as, stocked):
    order = orders.place_order({stocked.id: 1}, orders.Customer("Budi", "081211112222"), "gerai")
    login_as("kasir")
    assert client.get("/gerai/pesanan").status_code == 200
    assert client.post(f"/gerai/pesanan/{order.id}", data={"action": "ready"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "ready"


def test_kasir_completes_a_pay_at_gerai_order(client, auth, make_user, stocked):
    order = orders.place_order({stocked.id: 2}, orders.Customer("Budi", "081211112222"), "gerai")
    auth.login(make_user("kasir").email)
    page = client.get(f"/gerai/pesanan/{order.id}").get_data(as_text=True)
    assert "Budi" in page and "Rp90.000" in page
    client.post(f"/gerai/pesanan/{order.id}", data={"action": "complete", "pay-payment_method": "qris", "pay-once": new_key(),
                                                     "pay-payment_reference": "QR-1"})
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "completed"


def test_completing_a_pay_at_gerai_order_in_cash_shows_the_change_on_its_receipt(client, auth, make_user, stocked):
    order = orders.place_order({stocked.id: 2}, orders.Customer("Budi", "081211112222"), "gerai")
    auth.login(make_user("kasir").email)
    response = client.post(f"/gerai/pesanan/{order.id}", data={
        "action": "complete", "pay-payment_method": "cash", "pay-cash_received": "100.000", "pay-once": new_key()})
    db.session.expire_all()
    sale_id = db.session.get(Order, order.id).sale_id
    assert response.status_code == 302 and response.location.endswith(f"/gerai/penjualan/{sale_id}/struk")
    receipt = client.get(response.location).get_data(as_text=True)
    assert "Rp90.000" in receipt and "Rp100.000" in receipt and "Rp10.000" in receipt  # total, cash, change
    page = client.get(f"/gerai/pesanan/{order.id}").get_data(as_text=True)
    counter = page.split('id="counter-payment"', 1)[1].split("</p>", 1)[0]
    assert "Rp10.000" in counter and f"/gerai/penjualan/{sale_id}/struk" in counter


# --- GET reads only; Midtrans failing -------------------------------------------------------------

def _overdue(order):
    from datetime import timedelta

    db.session.execute(Order.__table__.update().where(Order.id == order.id)
                       .values(expires_at=order.created_at - timedelta(days=1)))
    db.session.commit()


@pytest.mark.parametrize("role", ["pengawas", "kasir"])
def test_reading_the_staff_order_list_leaves_an_overdue_order_pending(client, login_as, stocked, role):
    order = orders.place_order({stocked.id: 1}, orders.Customer("Budi", "081211112222"), "gerai")
    _overdue(order)
    login_as(role)
    assert client.get("/gerai/pesanan").status_code == 200
    assert client.get(f"/gerai/pesanan/{order.id}").status_code == 200
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "pending"


def test_an_html_502_from_midtrans_gets_503_pages_still_render_and_expiry_goes_on(
        client, login_as, runner, stocked, make_product, make_lot, midtrans_stub):
    online = orders.place_order({stocked.id: 1}, orders.Customer("Budi", "081211112222"), "midtrans")
    at_gerai = orders.place_order({stocked.id: 1}, orders.Customer("Siti", "081233334444"), "gerai")
    _overdue(online)
    _overdue(at_gerai)
    payload = midtrans_stub.notification(online, "settlement")
    midtrans_stub.html_502 = True
    assert client.post("/payments/midtrans/notification", json=payload).status_code == 503
    assert client.get(f"/pesanan/{online.token}").status_code == 200
    checked = client.post(f"/pesanan/{online.token}/cek")
    assert checked.status_code == 302
    login_as("kasir")
    assert client.get("/gerai/pesanan").status_code == 200
    assert client.get(f"/gerai/pesanan/{online.id}").status_code == 200
    result = runner.invoke(args=["expire-orders"])
    assert result.exit_code == 0, result.output
    assert "Expired 1 orders." in result.output and online.number in result.output
    db.session.expire_all()
    assert (db.session.get(Order, online.id).status, db.session.get(Order, at_gerai.id).status) == ("pending", "expired")


def test_an_online_order_midtrans_never_saw_expires(runner, stocked, midtrans_stub):
    order = orders.place_order({stocked.id: 1}, orders.Customer("Budi", "081211112222"), "midtrans")
    _overdue(order)  # the shopper never reached Snap: the status API answers 404
    result = runner.invoke(args=["expire-orders"])
    assert "Expired 1 orders." in result.output
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "expired"


# --- the system user, redirects, permissions per method ---------------------------------------------

def test_concurrent_first_checkouts_all_succeed_with_one_system_user(make_lot, make_product, at_once):
    from marketplace.accounts import SYSTEM_EMAIL
    from marketplace.models import User

    product_id = make_lot(make_product(), quantity=40).product_id
    db.session.execute(delete(User).where(User.email == SYSTEM_EMAIL))  # a shop whose system user is missing
    db.session.commit()

    def place(n):
        return lambda: orders.place_order({product_id: 1}, orders.Customer("Budi", f"0812{n:08d}"), "gerai").id

    outcomes = at_once(*[place(n) for n in range(4)])
    assert all(isinstance(o, int) for o in outcomes), outcomes
    assert len(db.session.scalars(select(User).where(User.email == SYSTEM_EMAIL)).all()) == 1


def test_the_migrations_create_the_system_user_once(tmp_path):
    from flask_migrate import upgrade

    from marketplace import create_app
    from marketplace.accounts import SYSTEM_EMAIL
    from marketplace.models import User

    fresh = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fresh.sqlite3'}", "TESTING": True,
                        "MEDIA_ROOT": str(tmp_path / "m"), "SEARCH_INDEX_DIR": str(tmp_path / "i")})
    with fresh.app_context():
        upgrade()
        system = db.session.scalar(select(User).where(User.email == SYSTEM_EMAIL))
        assert system is not None and not system.active and system.password_hash.startswith("!")
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("target, followed", [
    ("/produk?q=kripik", True), ("//evil.example/", False), ("/\\evil.example", False),
    ("https://evil.example/", False), ("/\t/evil.example", False), ("produk", False),
])
def test_adding_to_the_cart_returns_only_to_a_page_of_this_site(client, stocked, target, followed):
    response = client.post("/keranjang/tambah", data={"product_id": stocked.id, "next": target})
    assert response.headers["Location"] == (target if followed else "/keranjang")


def test_checkout_with_an_empty_cart_goes_back_to_the_products(client):
    response = client.get("/checkout")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/produk")
