"""A forged `Host:` header cannot put another site's name into pages, links or the page cache."""
import pytest
from sqlalchemy import select

from marketplace import create_app
from marketplace.extensions import db
from marketplace.once import new_key
from orders.models import Order
from storefront.page_cache import cache
from tests.conftest import PASSWORD, FreshContextClient

EVIL = {"Host": "evil.example"}
PUBLIC = "https://pasar.koperasi.id"


@pytest.fixture
def make_app(app_config):
    def make(**config):
        cache.clear()
        app = create_app({**app_config, "PAGE_CACHE_SECONDS": 60, **config})
        app.test_client_class = FreshContextClient
        return app

    yield make
    cache.clear()


def _public_pages(product) -> list[str]:
    return ["/robots.txt", "/sitemap.xml", f"/produk/{product.slug}", "/"]


def test_a_page_rendered_for_a_forged_host_is_never_served_to_other_visitors(make_app, make_product):
    product = make_product(name="Bingka Kentang", photos=1)
    client = make_app().test_client()
    for url in _public_pages(product):
        client.get(url, headers=EVIL)  # the attacker fills the cache first
        honest = client.get(url)
        assert honest.status_code == 200 and "evil.example" not in honest.get_data(as_text=True), url


def test_with_public_base_url_every_absolute_link_uses_it_whatever_the_host(make_app, make_product):
    product = make_product(name="Bingka Kentang", photos=1)
    client = make_app(PUBLIC_BASE_URL=PUBLIC).test_client()
    for url in _public_pages(product):
        body = client.get(url, headers=EVIL).get_data(as_text=True)
        assert "evil.example" not in body, url
    assert f"Sitemap: {PUBLIC}/sitemap.xml" in client.get("/robots.txt", headers=EVIL).get_data(as_text=True)
    assert f"<loc>{PUBLIC}/produk/{product.slug}</loc>" in client.get("/sitemap.xml", headers=EVIL).get_data(as_text=True)
    page = client.get(f"/produk/{product.slug}", headers=EVIL).get_data(as_text=True)
    assert f'<link rel="canonical" href="{PUBLIC}/produk/{product.slug}">' in page
    assert f'<meta property="og:image" content="{PUBLIC}/media/photos/' in page


def test_password_link_and_midtrans_return_address_use_public_base_url(app, auth, make_user, make_member, make_product,
                                                                     make_lot, midtrans_stub):
    app.config["PUBLIC_BASE_URL"] = PUBLIC
    pengurus, member = make_user("pengurus"), make_member()
    staff = app.test_client()
    staff.post("/masuk", data={"identifier": pengurus.email, "password": PASSWORD}, headers=EVIL)
    link_page = staff.post(f"/admin/pengguna/{member.user.id}/tautan-sandi", headers=EVIL).get_data(as_text=True)
    assert f"{PUBLIC}/atur-sandi/" in link_page and "evil.example" not in link_page

    product = make_product(price=20000)
    make_lot(product, quantity=3)
    shopper = app.test_client()
    shopper.post("/keranjang/tambah", data={"product_id": product.id}, headers=EVIL)
    shopper.post("/checkout", headers=EVIL, data={"name": "Budi", "phone": "0812 1111 2222", "fulfilment": "pickup",
                                                  "address": "", "notes": "", "payment_method": "midtrans",
                                                  "once": new_key()})
    order = db.session.scalar(select(Order))
    assert midtrans_stub.created[-1]["callbacks"]["finish"] == f"{PUBLIC}/pesanan/{order.token}"


def test_with_trusted_hosts_an_unknown_host_is_refused(monkeypatch, app_config):
    monkeypatch.setenv("TRUSTED_HOSTS", "pasar.koperasi.id, www.pasar.koperasi.id")
    client = create_app(app_config).test_client()
    assert client.get("/", headers=EVIL).status_code == 400
    assert client.get("/robots.txt", headers=EVIL).status_code == 400
    assert client.get("/healthz", headers={"Host": "www.pasar.koperasi.id"}).status_code == 200
    robots = client.get("/robots.txt", headers={"Host": "pasar.koperasi.id"})
    assert robots.status_code == 200 and "http://pasar.koperasi.id/sitemap.xml" in robots.get_data(as_text=True)
