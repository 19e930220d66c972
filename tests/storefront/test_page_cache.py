"""The anonymous page cache: hits, per-visitor CSRF tokens, and everyone it must not serve."""
import pytest

from storefront.page_cache import cache


@pytest.fixture
def cached_app(app_config):
    from marketplace import create_app

    from tests.conftest import FreshContextClient

    cache.clear()
    app = create_app({**app_config, "PAGE_CACHE_SECONDS": 60, "WTF_CSRF_ENABLED": True})
    app.test_client_class = FreshContextClient
    yield app
    cache.clear()


def _token(page: str) -> str:
    import re

    return re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def test_anonymous_pages_are_served_from_the_cache(cached_app, make_product):
    make_product(name="Bingka Kentang")
    client = cached_app.test_client()
    first, second = client.get("/produk"), client.get("/produk")
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("miss", "hit")
    assert second.get_data() == first.get_data()
    assert client.get("/produk?q=bingka").headers["X-Cache"] == "miss"  # the query is part of the key


def test_each_visitor_gets_a_working_csrf_token_of_their_own(cached_app, make_product, make_lot):
    product = make_product(name="Bingka Kentang")
    make_lot(product, quantity=3)
    alice, budi = cached_app.test_client(), cached_app.test_client()
    page_a, page_b = alice.get(f"/produk/{product.slug}"), budi.get(f"/produk/{product.slug}")
    assert page_b.headers["X-Cache"] == "hit"
    token_a, token_b = _token(page_a.get_data(as_text=True)), _token(page_b.get_data(as_text=True))
    assert token_a != token_b and "placeholder" not in token_a + token_b
    assert budi.post("/keranjang/tambah", data={"product_id": product.id, "csrf_token": token_b}).status_code == 302
    assert alice.post("/keranjang/tambah", data={"product_id": product.id, "csrf_token": token_b}).status_code == 400


def test_visitors_with_a_cart_or_signed_in_bypass_the_cache(cached_app, make_product, make_user, make_lot):
    product = make_product(name="Bingka Kentang")
    make_lot(product, quantity=3)
    client = cached_app.test_client()
    client.get("/produk")
    page = client.get(f"/produk/{product.slug}").get_data(as_text=True)
    client.post("/keranjang/tambah", data={"product_id": product.id, "csrf_token": _token(page)})
    assert "X-Cache" not in client.get("/produk").headers  # the header shows the cart count: never shared
    staff = cached_app.test_client()
    login_page = staff.get("/masuk").get_data(as_text=True)
    kasir = make_user("kasir")
    staff.post("/masuk", data={"identifier": kasir.email, "password": "rahasia123", "csrf_token": _token(login_page)})
    assert "X-Cache" not in staff.get("/produk").headers


def test_errors_are_not_cached(cached_app):
    client = cached_app.test_client()
    assert client.get("/produk/tidak-ada").status_code == 404
    assert "X-Cache" not in client.get("/produk/tidak-ada").headers
