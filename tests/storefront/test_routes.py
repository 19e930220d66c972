import pytest


def test_home_and_product_list_show_published_products(client, make_product):
    make_product(name="Bingka Kentang", price=45000)
    for url in ("/", "/produk"):
        page = client.get(url).get_data(as_text=True)
        assert "Bingka Kentang" in page and "Rp45.000" in page


def test_home_shows_new_products_a_shopper_can_buy_first(client, make_product, make_lot):
    on_shelf = make_product(name="Bingka Kentang")
    make_lot(product=on_shelf, quantity=5)
    newer_but_sold_out = [make_product(name=f"Kue Baru {i}") for i in range(8)]
    page = client.get("/").get_data(as_text=True)
    assert "Bingka Kentang" in page
    assert page.index("Bingka Kentang") < page.index(newer_but_sold_out[-1].name)
    assert sum(p.name in page for p in newer_but_sold_out) == 7  # eight tiles in all


def test_draft_and_archived_products_are_404(client, make_product):
    draft = make_product(status="draft")
    archived = make_product(status="archived")
    assert client.get(f"/produk/{draft.slug}").status_code == 404
    assert client.get(f"/produk/{archived.slug}").status_code == 404
    page = client.get("/produk").get_data(as_text=True)
    assert draft.name not in page and archived.name not in page


def test_product_page_shows_photo_price_unit_and_business(client, make_member, make_product):
    member = make_member(business_name="Wadai Banjar Hj. Aluh")
    product = make_product(member, name="Kue Lam", price=60000, unit="loyang", photos=2)
    page = client.get(f"/produk/{product.slug}").get_data(as_text=True)
    assert "Rp60.000" in page and "loyang" in page and "Wadai Banjar Hj. Aluh" in page
    assert page.count(".webp") >= 2


def test_public_pages_never_show_a_members_bank_account_or_phone(client, make_member, make_product):
    member = make_member(bank_account_number="7654321098")
    product = make_product(member)
    for url in ("/", "/produk", f"/produk/{product.slug}", f"/produk?q={product.name}"):
        page = client.get(url).get_data(as_text=True)
        assert "7654321098" not in page and member.whatsapp not in page


def test_thumbnails_are_lazy_webp_with_dimensions(client, make_product):
    for _ in range(3):
        make_product(photos=1)
    page = client.get("/produk").get_data(as_text=True)
    assert page.count('loading="lazy"') >= 1
    assert 'width="320"' in page and 'height="240"' in page and "-320.webp" in page


def test_search_page_reports_what_was_found(client, make_product):
    make_product(name="Keripik Pisang Kepok")
    page = client.get("/produk?q=kripik+pisang").get_data(as_text=True)
    assert "Keripik Pisang Kepok" in page and "1 produk ditemukan" in page


def test_suggestions_complete_a_prefix(client, make_product):
    make_product(name="Keripik Pisang Kepok")
    make_product(name="Jamu Kunyit Asam")
    assert client.get("/produk/saran?q=kerip").json == [{"name": "Keripik Pisang Kepok", "slug": "keripik-pisang-kepok"}]


def test_bad_price_filter_is_ignored_not_an_error(client, make_product):
    make_product(name="Sambal Acan")
    response = client.get("/produk?min=abc&max=")
    assert response.status_code == 200 and "Sambal Acan" in response.get_data(as_text=True)


def test_srcset_lists_each_width_once_for_small_photos(client, make_member, make_product):
    import re

    from catalog.services import ProductData, Upload, create_product
    from tests.conftest import jpeg_bytes

    member = make_member()
    product = create_product(member.user, ProductData(name="Foto Kecil", price=1000, unit="pcs", status="published"),
                             [Upload("kecil.jpg", jpeg_bytes(size=(600, 450)))])
    page = client.get(f"/produk/{product.slug}").get_data(as_text=True)
    srcset = re.search(r'srcset="([^"]+)"', page).group(1)
    widths = [part.strip().rsplit(" ", 1)[1] for part in srcset.split(",")]
    assert widths == ["320w", "600w"]


def test_product_list_shows_products_a_shopper_can_buy_first(client, make_product, make_lot):
    on_shelf = make_product(name="Bingka Kentang")
    make_lot(product=on_shelf, quantity=5)
    make_product(name="Kue Baru Habis")  # newer, but nothing on the shelf
    page = client.get("/produk").get_data(as_text=True)
    assert page.index("Bingka Kentang") < page.index("Kue Baru Habis")


def test_search_shows_matches_a_shopper_can_buy_first(client, make_product, make_lot):
    on_shelf = make_product(name="Keripik Pisang Kepok")
    make_lot(product=on_shelf, quantity=5)
    make_product(name="Keripik Pisang Kepok Manis")  # matches as well, but sold out
    page = client.get("/produk?q=keripik+pisang").get_data(as_text=True)
    assert page.index("Keripik Pisang Kepok</p>") < page.index("Keripik Pisang Kepok Manis</p>")


def test_filters_are_folded_away_after_a_search_and_count_what_applies(client, make_product, make_category):
    category = make_category("Kue")
    make_product(name="Bingka Kentang", category_id=category.id)
    searched = client.get(f"/produk?q=bingka&kategori={category.id}").get_data(as_text=True)
    assert '<details class="more-filters" >' in searched and "(1 aktif)" in searched
    browsing = client.get(f"/produk?kategori={category.id}").get_data(as_text=True)
    assert '<details class="more-filters" open>' in browsing


def test_product_list_pages_through_products_with_stock_then_without_each_newest_first(app, monkeypatch, make_product,
                                                                                       make_lot, count_queries):
    """…reading the lots' balances, never summing the stock ledger."""
    from storefront import services

    monkeypatch.setattr(services, "PAGE_SIZE", 2)
    products = [make_product(name=f"Produk {i}") for i in range(5)]  # published in this order: 4 is the newest
    for i in (0, 2, 3):
        make_lot(product=products[i], quantity=1)
    with count_queries() as n:
        pages = [[p.name for p in services.browse(page=n).products] for n in (1, 2, 3, 4)]
    assert not any("stock_movements" in sql for sql in n.statements)
    assert pages == [["Produk 3", "Produk 2"], ["Produk 0", "Produk 4"], ["Produk 1"], []]


def test_a_product_page_reads_its_product_with_member_and_category_in_one_statement(client, make_product,
                                                                                     make_category, count_queries):
    """Member and category come joined in the product's row, the cooperative (for the WhatsApp link) from the
    values kept across requests: no statement of their own."""
    product = make_product(name="Amplang Ikan Tenggiri", category_id=make_category("Kerupuk").id, photos=1)
    client.get(f"/produk/{product.slug}")
    with count_queries() as n:
        page = client.get(f"/produk/{product.slug}").get_data(as_text=True)
    assert "Amplang Ikan Tenggiri" in page and "Kerupuk" in page and product.member.business_name in page
    read = [" ".join(sql.split()).lower() for sql in n.statements]
    assert not [sql for sql in read if sql.startswith(("select members.", "select categories.", "select cooperatives."))]
    assert sum("from products" in sql and "join members" in sql for sql in read) == 1


def test_a_page_of_products_is_chosen_and_read_in_one_statement(client, monkeypatch, make_product, make_lot,
                                                                 count_queries):
    """The page's ids are a subquery of the statement that reads their tiles (two statements before); with the
    count and the categories kept (marketplace.shared_values), a full page runs that and the token's read, and
    the same page again only the token's read (its tiles are kept too, until anything a tile shows changes)."""
    from storefront import services

    monkeypatch.setattr(services, "PAGE_SIZE", 2)
    for i in range(3):
        make_lot(product=make_product(name=f"Produk Hemat {i}", price=10000 + i), quantity=2)
    client.get("/produk?page=2")  # keeps the count and the categories, and that page's tiles
    for url, shown in (("/produk", (2, 1)), ("/produk?urut=price_asc", (0, 1))):
        with count_queries() as n:
            page = client.get(url).get_data(as_text=True)
        assert all(f"Produk Hemat {i}<" in page for i in shown) and page.count('class="tile"') == 2
        assert n() == 2, [" ".join(s.split())[:80] for s in n.statements]
        assert "cache_generations" in n.statements[0] and "product_photos" in n.statements[1]
        with count_queries() as n:
            assert client.get(url).get_data(as_text=True) == page
        assert n() == 1 and "cache_generations" in n.statements[0]


def test_browsing_counts_products_only_up_to_a_cap_and_still_pages_through_all(client, monkeypatch, make_product,
                                                                             count_queries):
    """A catalogue of 50,000 products costs a COUNT over all of them on every page; the list says "more than"
    instead, and its pager goes on while pages are full."""
    from storefront import services

    monkeypatch.setattr(services, "COUNT_CAP", 5)
    monkeypatch.setattr(services, "PAGE_SIZE", 4)
    for i in range(10):
        make_product(name=f"Produk Banyak {i}")
    with count_queries() as n:
        first = client.get("/produk").get_data(as_text=True)
    assert "Lebih dari 5 produk" in first and "Halaman 1<" in first and 'rel="next"' in first
    counts = [sql for sql in n.statements if "count(" in sql.lower()]
    assert counts and all("LIMIT" in sql.upper() for sql in counts)
    seen = []
    for page in (1, 2, 3):
        html = client.get(f"/produk?page={page}").get_data(as_text=True)
        seen += [f"Produk Banyak {i}" for i in range(10) if f"Produk Banyak {i}<" in html]
        assert ('rel="next"' in html) == (page < 3)
    assert sorted(seen) == sorted(f"Produk Banyak {i}" for i in range(10))
    monkeypatch.setattr(services, "COUNT_CAP", 1000)
    page = client.get("/produk").get_data(as_text=True)
    assert "10 produk" in page and "Halaman 1 dari 3" in page


@pytest.fixture
def built(monkeypatch):
    """The endpoints url_for builds URLs for, in order."""
    from werkzeug.routing import MapAdapter

    endpoints, build = [], MapAdapter.build

    def counting_build(self, endpoint, *args, **kwargs):
        endpoints.append(endpoint)
        return build(self, endpoint, *args, **kwargs)

    monkeypatch.setattr(MapAdapter, "build", counting_build)
    return endpoints


def test_a_page_of_tiles_builds_the_photo_url_prefix_once(app, client, built, make_product):
    """url_for was the most expensive call of the storefront (four per tile); the URLs stay the same."""
    products = [make_product(name=f"Produk Foto {i}", photos=1) for i in range(3)]
    page = client.get("/produk").get_data(as_text=True)
    assert built.count("core.photo_file") == 1
    for product in products:
        name = product.cover.variant_name(320)
        assert f'src="/media/photos/{name}"' in page and f"/media/photos/{name} " in page


def test_the_home_page_loads_only_the_products_it_shows(app, client, make_product, make_lot):
    """It picks the newest products with stock among the 40 newest by id, then reads just those 8 tiles, as
    rows: no product is built as an ORM object."""
    from sqlalchemy import event

    from catalog.models import Product

    products = [make_product(name=f"Produk Baru {i}") for i in range(12)]
    make_lot(product=products[0], quantity=3)  # the oldest, but on the shelf: shown first
    loaded = []

    def count(target, context):
        loaded.append(target.id)

    event.listen(Product, "load", count)
    try:
        page = client.get("/").get_data(as_text=True)
    finally:
        event.remove(Product, "load", count)
    assert loaded == []
    assert page.count('<li class="tile">') == 8
    assert page.index("Produk Baru 0<") < page.index("Produk Baru 11<")


def test_tile_links_are_the_product_urls_and_url_for_runs_once_per_page(app, client, built, make_product):
    from flask import url_for

    from marketplace.templating import product_href

    products = [make_product(name=f"Kue Lapis {i}") for i in range(3)]
    page = client.get("/produk").get_data(as_text=True)
    assert built.count("storefront.product_detail") == 1
    with app.test_request_context("/"):
        for product in products:
            assert f'href="{url_for("storefront.product_detail", slug=product.slug)}"' in page
        for slug in ("kue-lapis-2", "a", "kopi-100-gram"):
            assert product_href(slug) == url_for("storefront.product_detail", slug=slug)
