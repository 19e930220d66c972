"""The layout's header and footer (marketplace.templating.layout): drawn once per variant in each worker, yet
always this visitor's — cart, account, sign-out token, language link — and the cooperative as it is now."""
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Cooperative
from tests.conftest import PASSWORD


def _header(page: str) -> str:
    return page.split('<header class="top">')[1].split("</header>")[0]


def test_the_header_shows_this_visitors_cart_and_account(client, auth, make_product, make_lot, make_user):
    product = make_product(name="Amplang Ikan Pipih")
    make_lot(product=product, quantity=5)
    header = _header(client.get("/kontak").get_data(as_text=True))
    assert 'href="/masuk"' in header and "Keranjang (" not in header and "data-sign-out" not in header
    client.post("/keranjang/tambah", data={"product_id": product.id, "jumlah": "2"})
    assert "Keranjang (2)" in _header(client.get("/kontak").get_data(as_text=True))
    auth.login(make_user("kasir").email)
    header = _header(client.get("/kontak").get_data(as_text=True))
    assert "data-sign-out" in header and 'href="/masuk"' not in header


def test_each_signed_in_visitor_gets_their_own_sign_out_token(app_config, make_user):
    from marketplace import create_app

    app = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    with app.app_context():
        emails = [make_user("kasir").email, make_user("pengurus").email]
    tokens = []
    for email in emails:
        client = app.test_client()
        login_page = client.get("/masuk").get_data(as_text=True)
        token = login_page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        client.post("/masuk", data={"identifier": email, "password": PASSWORD, "csrf_token": token})
        header = _header(client.get("/kontak").get_data(as_text=True))
        sign_out_token = header.split('name="csrf_token" value="')[1].split('"')[0]
        assert "__" not in sign_out_token
        tokens.append(sign_out_token)
        assert client.post("/keluar", data={"csrf_token": sign_out_token}).status_code == 302  # the token works
        assert 'href="/masuk"' in _header(client.get("/kontak").get_data(as_text=True))
    assert tokens[0] != tokens[1]


def test_the_language_link_names_the_page_it_is_on(client):
    first = _header(client.get("/produk?q=keripik").get_data(as_text=True))
    second = _header(client.get("/kontak").get_data(as_text=True))
    assert "next=/produk?q%3Dkeripik" in first and "next=/kontak" in second


def test_a_renamed_cooperative_shows_on_the_next_page(client):
    db.session.add(Cooperative(name="Koperasi Lama", legal_number="AHU-1"))
    db.session.commit()
    page = client.get("/kontak").get_data(as_text=True)
    assert "Koperasi Lama" in _header(page) and "AHU-1" in page.split('<footer class="foot">')[1]
    coop = db.session.scalar(select(Cooperative))
    coop.name, coop.legal_number = "Koperasi Baru", "AHU-2"
    db.session.commit()
    page = client.get("/kontak").get_data(as_text=True)
    footer = page.split('<footer class="foot">')[1]
    assert "Koperasi Baru" in _header(page) and "Koperasi Lama" not in page
    assert "AHU-2" in footer and "AHU-1" not in footer


def test_the_header_speaks_the_visitors_language(client):
    assert ">Produk</a>" in _header(client.get("/kontak").get_data(as_text=True))
    client.get("/bahasa/en")
    assert ">Products</a>" in _header(client.get("/kontak").get_data(as_text=True))


def test_the_layout_is_drawn_once_per_variant(app, client, monkeypatch):
    from jinja2 import Environment

    drawn, get_template = [], Environment.get_template

    def counting(self, name, *args, **kwargs):
        drawn.append(name)
        return get_template(self, name, *args, **kwargs)

    client.get("/kontak")
    monkeypatch.setattr(Environment, "get_template", counting)
    client.get("/kontak")
    assert not [name for name in drawn if name.startswith("_layout_")]
    client.get("/tentang")  # another page: the header names it in the language link, the rest is kept
    assert [name for name in drawn if name.startswith("_layout_")] == ["_layout_top.html"]
