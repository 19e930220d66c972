"""Request tests for the cart, checkout, order pages, notifications endpoint and staff order pages."""
import pytest
from sqlalchemy import select

from marketplace.extensions import db
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
            "payment_method": "gerai"}
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
    lot = gerai.lots_overview()[0].lot
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


@pytest.mark.parametrize("role, list_code, can_act", [
    (None, 302, False), ("member", 403, False), ("kasir", 200, True), ("pengurus", 200, True), ("pengawas", 200, False),
])
def test_staff_order_pages_role_matrix(client, login_as, stocked, role, list_code, can_act):
    order = orders.place_order({stocked.id: 1}, orders.Customer("Budi", "081211112222"), "gerai")
    login_as(role)
    assert client.get("/gerai/pesanan").status_code == list_code
    response = client.post(f"/gerai/pesanan/{order.id}", data={"action": "ready"})
    if can_act:
        assert response.status_code == 302
        db.session.expire_all()
        assert db.session.get(Order, order.id).status == "ready"
    else:
        assert response.status_code in (302, 403)
        db.session.expire_all()
        assert db.session.get(Order, order.id).status == "pending"


def test_kasir_completes_a_pay_at_gerai_order(client, auth, make_user, stocked):
    order = orders.place_order({stocked.id: 2}, orders.Customer("Budi", "081211112222"), "gerai")
    auth.login(make_user("kasir").email)
    page = client.get(f"/gerai/pesanan/{order.id}").get_data(as_text=True)
    assert "Budi" in page and "Rp90.000" in page
    client.post(f"/gerai/pesanan/{order.id}", data={"action": "complete", "pay-payment_method": "qris",
                                                     "pay-payment_reference": "QR-1"})
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "completed"
