"""Values kept across requests (marketplace.shared_values): the cooperative's row, the categories in use, how
many products a filter finds and the newest news are read once per worker process, and a change made by any
worker, command or script shows on the next request everywhere. A second app on the same database stands for
a second gunicorn worker: each app keeps its own values."""
import re

import pytest
from sqlalchemy import select, text

from marketplace import create_app
from marketplace.extensions import db
from marketplace.models import Cooperative
from marketplace.timeutil import utcnow
from tests.conftest import FreshContextClient


@pytest.fixture
def other_worker(app_config):
    other = create_app(app_config)
    other.test_client_class = FreshContextClient
    yield other.test_client()
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def coop(app):
    coop = Cooperative(name="Koperasi Maju Bersama", legal_number="AHU-1")
    db.session.add(coop)
    db.session.commit()
    return coop


def _generation():
    return db.session.execute(text("SELECT value FROM cache_generations WHERE name = 'catalogue'")).scalar()


def test_a_product_published_elsewhere_shows_in_the_count_and_categories_of_another_worker_at_once(
        app, coop, other_worker, make_product, make_category):
    from catalog.services import change_status

    keripik = make_category("Keripik")
    pisang = make_product(name="Keripik Pisang", category_id=keripik.id)
    page = other_worker.get("/produk").get_data(as_text=True)  # the other worker keeps the count and the categories
    assert "1 produk" in page and ">Keripik</option>" in page and ">Kue</option>" not in page

    kue = make_category("Kue")  # this worker (or a script) adds a category and a product in it
    make_product(name="Bingka Kentang", category_id=kue.id, price=40000)
    page = other_worker.get("/produk").get_data(as_text=True)
    assert "2 produk" in page and ">Kue</option>" in page
    assert "1 produk" in other_worker.get("/produk?min=30000").get_data(as_text=True)

    change_status(pisang.member.user, pisang, "archived")
    page = other_worker.get("/produk").get_data(as_text=True)
    assert "1 produk" in page and ">Keripik</option>" not in page


def test_the_cooperative_renamed_elsewhere_shows_on_another_workers_next_page(app, coop, other_worker):
    assert "Koperasi Maju Bersama" in other_worker.get("/kontak").get_data(as_text=True)
    coop.name = "Koperasi Sasirangan"
    db.session.commit()
    page = other_worker.get("/kontak").get_data(as_text=True)
    assert "Koperasi Sasirangan" in page and "Koperasi Maju Bersama" not in page


def test_while_nothing_changes_a_page_reads_the_token_instead_of_the_values(client, coop, make_product, make_category,
                                                                            count_queries):
    make_product(name="Keripik Pisang", category_id=make_category("Keripik").id)
    client.get("/produk")
    with count_queries() as n:
        page = client.get("/produk").get_data(as_text=True)
    assert "Keripik Pisang" in page and ">Keripik</option>" in page and "Koperasi Maju Bersama" in page
    read = " ".join(n.statements).lower()
    assert read.count("cache_generations") == 1
    assert "count(" not in read and "from categories" not in read and "from cooperatives" not in read


def test_a_change_rolled_back_is_neither_kept_nor_shown_to_the_next_request(app, coop, make_product, make_category):
    from storefront import services

    keripik = make_category("Keripik")
    product = make_product(name="Keripik Pisang", category_id=keripik.id)
    with app.test_request_context("/produk"):
        product.status = "archived"
        db.session.flush()
        assert services.categories_in_use() == ()  # the request sees its own change…
        assert services.browse().total == 0
        db.session.rollback()  # …which is then given up
    with app.test_request_context("/produk"):
        assert [c.name for c in services.categories_in_use()] == ["Keripik"]
        assert services.browse().total == 1


def test_the_token_moves_with_what_the_kept_values_show_and_not_with_other_edits(app, coop, make_product,
                                                                               make_category):
    from storefront.models import NewsPost

    product = make_product(name="Keripik Pisang")
    before = _generation()
    product.description = "Renyah dan gurih"
    product.sku = "KP-250"
    db.session.commit()
    assert _generation() == before  # a product's description and code are not among the kept values

    moves = [lambda: setattr(product, "price", 17000), lambda: setattr(product, "status", "draft"),
             lambda: setattr(product, "name", "Keripik Pisang Kepok"),  # the tiles (migration 0022)
             lambda: setattr(product, "category_id", make_category("Kue").id),
             lambda: setattr(db.session.scalar(select(Cooperative)), "whatsapp", "081234567890"),
             lambda: db.session.add(NewsPost(title="Pasar murah", slug="pasar-murah", summary="", published_at=utcnow(),
                                             status="published"))]
    for move in moves:
        before = _generation()
        move()
        db.session.commit()
        assert _generation() != before


def test_the_home_page_shows_news_published_elsewhere_at_once(app, coop, other_worker):
    from storefront.models import NewsPost

    assert "Pasar murah" not in other_worker.get("/").get_data(as_text=True)
    db.session.add(NewsPost(title="Pasar murah Sabtu", slug="pasar-murah", summary="", status="published",
                             published_at=utcnow()))
    db.session.commit()
    assert "Pasar murah Sabtu" in other_worker.get("/").get_data(as_text=True)


def test_kept_tiles_show_a_sell_out_a_rename_and_a_business_name_on_another_worker_at_once(
        app, coop, other_worker, make_user, make_member, make_product, make_lot):
    """Pages of tiles (the product list, a search, the home page) are kept per worker too: the token moves with
    anything a tile shows or its order depends on (migration 0022), and a sale that leaves stock moves nothing."""
    from consignment.services import LineRequest, record_counter_sale

    kasir = make_user("kasir")
    last_one = make_lot(make_product(make_member(business_name="Dapur Acil"), name="Amplang Ikan"), quantity=1)
    plenty = make_lot(make_product(make_member(business_name="Kue Sari"), name="Bingka Kentang"), quantity=5)

    def tiles(url):
        html = other_worker.get(url).get_data(as_text=True)
        return [(name, "Stok habis" in rest) for name, rest in
                re.findall(r'<p class="name">([^<]+)</p>(.*?)</li>', html, re.S)]

    for url in ("/produk", "/produk?q=amplang", "/"):
        assert ("Amplang Ikan", False) in tiles(url)  # kept by the other worker from here on
    before = _generation()
    record_counter_sale(kasir, [LineRequest(plenty.id, 1)], "cash")
    assert _generation() == before  # stock left on the shelf: no tile changes, nothing is read again

    record_counter_sale(kasir, [LineRequest(last_one.id, 1)], "cash")  # sold out
    assert tiles("/produk") == [("Bingka Kentang", False), ("Amplang Ikan", True)]  # in stock first
    assert tiles("/produk?q=amplang") == [("Amplang Ikan", True)]
    assert tiles("/")[-1] == ("Amplang Ikan", True)

    plenty.product.name = "Bingka Kentang Istimewa"
    db.session.commit()
    assert tiles("/produk")[0] == ("Bingka Kentang Istimewa", False)
    last_one.member.business_name = "Dapur Acil Banjarbaru"
    db.session.commit()
    assert "Dapur Acil Banjarbaru" in other_worker.get("/produk?q=amplang").get_data(as_text=True)


def test_the_token_moves_with_a_products_photos_and_a_lots_stock_crossing_zero(app, coop, make_product, make_lot):
    from catalog.models import ProductPhoto
    from consignment.models import ConsignmentLot

    product = make_product(name="Sasirangan Motif Gigi Haruan", photos=1)
    lot = make_lot(product, quantity=2)

    def moved(change) -> bool:
        before = _generation()
        change()
        db.session.commit()
        return _generation() != before

    photo = db.session.scalar(select(ProductPhoto).where(ProductPhoto.product_id == product.id))
    assert moved(lambda: setattr(photo, "position", 5))
    assert moved(lambda: db.session.delete(photo))
    row = db.session.get(ConsignmentLot, lot.id)
    assert not moved(lambda: setattr(row, "on_hand", 1))
    assert moved(lambda: setattr(row, "on_hand", 0))
    assert not moved(lambda: setattr(row, "on_hand", -1))  # still nothing on the shelf
    assert moved(lambda: setattr(row, "on_hand", 3))
