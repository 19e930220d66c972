"""Length limits: shown on the form (maxlength, a hint, a live counter) and enforced by the services,
which refuse over-long text with a message instead of cutting it."""
import pytest
from sqlalchemy import select

from catalog import services as catalog
from catalog.models import Product
from marketplace.errors import DomainError
from marketplace.extensions import db
from orders import services as orders
from storefront import microsite


def test_product_form_shows_each_limit_without_javascript(client, login_as):
    login_as("member")
    page = client.get("/kelola/produk/baru").get_data(as_text=True)
    assert 'maxlength="200"' in page and 'maxlength="5000"' in page
    assert 'data-counter-for="name"' in page and "Maksimal 200 karakter." in page
    assert 'aria-describedby="name-limit"' in page
    assert "/static/counter.js" in page


def test_over_long_product_description_is_refused_not_cut(make_product):
    product = make_product(description="Renyah")
    data = catalog.ProductData(name=product.name, price=15000, unit="pcs", description="a" * 5001)
    with pytest.raises(DomainError) as refused:
        catalog.update_product(product.member.user, product, data)
    assert refused.value.field == "description" and "5001" in refused.value.message
    db.session.expire_all()
    assert db.session.scalar(select(Product.description)) == "Renyah"


def test_over_long_unit_is_refused_not_cut(make_member):
    member = make_member()
    with pytest.raises(DomainError) as refused:
        catalog.create_product(member.user, catalog.ProductData(name="Amplang", price=15000, unit="bungkus " * 10))
    assert refused.value.field == "unit"


def test_over_long_order_notes_are_refused_not_cut(make_lot):
    lot = make_lot(quantity=5)
    customer = orders.Customer(name="Budi", phone="0812 1111 2222", notes="tolong " * 200)
    with pytest.raises(DomainError) as refused:
        orders.place_order({lot.product_id: 1}, customer, "gerai")
    assert refused.value.field == "notes"


def test_over_long_news_summary_and_board_position_are_refused_not_cut(make_user):
    pengurus = make_user("pengurus")
    with pytest.raises(DomainError) as refused:
        microsite.save_news(pengurus, microsite.NewsData(title="Panen raya", body_markdown="", summary="x" * 301))
    assert refused.value.field == "summary"
    with pytest.raises(DomainError) as refused:
        microsite.save_board_member(pengurus, microsite.BoardMemberData(name="Sari", position="K" * 201,
                                                                         body="pengurus", position_order=0))
    assert refused.value.field == "position"


@pytest.mark.browser
def test_counter_follows_what_is_typed(page, live_server, make_member):
    from tests.conftest import PASSWORD

    make_member(email="acil@test.id")
    page.goto(f"{live_server}/masuk")
    page.get_by_label("Email atau nomor HP").fill("acil@test.id")
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.goto(f"{live_server}/kelola/produk/baru")
    page.get_by_label("Nama produk").fill("Amplang")
    assert page.locator("#name-limit").inner_text() == "7/200"
