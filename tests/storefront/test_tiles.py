"""The grid of product tiles (storefront/tiles.py) and the remembered template links (marketplace/templating.py)."""
from flask import url_for

from marketplace.photos import PhotoRef
from storefront.services import Tile
from storefront.tiles import tiles


def _tile(**overrides) -> Tile:
    values = dict(id=1, slug="kue-lapis", name="Kue Lapis", price=45000, unit="loyang",
                  business_name="Wadai Hj. Aluh", cover=PhotoRef("ab" + "c" * 62, 1200, 900), available=3)
    values.update(overrides)
    return Tile(**values)


def test_a_tile_links_to_its_product_and_shows_price_unit_and_business(app):
    with app.test_request_context("/"):
        html = str(tiles([_tile()]))
        href = url_for("storefront.product_detail", slug="kue-lapis")
    assert html.startswith('<ul class="grid">') and html.endswith("</ul>")
    assert f'<li class="tile"><a href="{href}">' in html
    assert '<p class="name">Kue Lapis</p>' in html
    assert '<p class="price">Rp45.000 <small class="muted">/ loyang</small></p>' in html
    assert '<p class="by">Wadai Hj. Aluh</p>' in html
    assert "Stok habis" not in html


def test_a_tiles_photo_offers_each_variant_once_with_its_size(app):
    wide = PhotoRef("ab" + "1" * 62, 1200, 900)
    narrow = PhotoRef("cd" + "2" * 62, 500, 400)  # narrower than 640: its 640 and 1280 variants are 500 wide
    with app.test_request_context("/"):
        html = str(tiles([_tile(cover=wide), _tile(id=2, slug="b", cover=narrow)]))
        prefix = url_for("core.photo_file", name="x")[:-1]
    assert (f'src="{prefix}{wide.variant_name(320)}" srcset="{prefix}{wide.variant_name(320)} 320w, '
            f'{prefix}{wide.variant_name(640)} 640w, {prefix}{wide.variant_name(1280)} 1200w"') in html  # the 1280 variant of a 1200-px photo
    assert 'width="320" height="240"' in html
    assert f'srcset="{prefix}{narrow.variant_name(320)} 320w, {prefix}{narrow.variant_name(640)} 500w"' in html
    assert 'width="320" height="256"' in html


def test_only_the_first_photos_load_at_once(app):
    with app.test_request_context("/"):
        html = str(tiles([_tile(id=i, slug=f"p{i}") for i in range(4)], eager_first=2))
    images = html.split("<img")[1:]
    assert ['loading="lazy"' in image for image in images] == [False, False, True, True]
    assert all('decoding="async"' in image for image in images)


def test_tile_text_is_escaped(app):
    with app.test_request_context("/"):
        html = str(tiles([_tile(name='<script>alert(1)</script> "Kue"', unit="<b>", business_name="A & B",
                                slug="a-b")]))
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &#34;Kue&#34;" in html
    assert 'alt="&lt;script&gt;alert(1)&lt;/script&gt; &#34;Kue&#34;"' in html
    assert "A &amp; B" in html


def test_a_sold_out_product_says_so_in_the_pages_language(app):
    from flask_babel import force_locale

    with app.test_request_context("/"):
        assert '<span class="badge archived">Stok habis</span>' in str(tiles([_tile(available=0)]))
        with force_locale("en"):
            assert "Out of stock" in str(tiles([_tile(available=-1)]))


def test_a_remembered_tile_shows_what_its_row_says_now(app):
    """Tiles are remembered per worker under everything they show: the same row is drawn once, and a new
    price, name, photo or an empty stock is shown on the very next page."""
    from storefront.tiles import _tile_html

    with app.test_request_context("/"):
        first = str(tiles([_tile()]))
        hits = _tile_html.cache_info().hits
        assert str(tiles([_tile(available=7)])) == first  # still in stock: the same tile, drawn from memory
        assert _tile_html.cache_info().hits == hits + 1
        changed = str(tiles([_tile(price=47500, name="Kue Lapis Legit", cover=PhotoRef("ef" + "3" * 62, 800, 600),
                                   available=0)]))
    assert "Rp47.500" in changed and "Kue Lapis Legit" in changed and "ef" + "3" * 62 in changed
    assert "Rp45.000" not in changed and '<span class="badge archived">Stok habis</span>' in changed
    with app.app_context(), app.test_request_context("/", base_url="http://localhost/pasar"):  # a request of its own
        assert 'href="/pasar/produk/kue-lapis"' in str(tiles([_tile()]))  # links follow the request's prefix


def test_a_product_without_a_photo_keeps_the_tiles_shape(app):
    with app.test_request_context("/"):
        html = str(tiles([_tile(cover=None, name="Amplang")]))
    assert 'width="320" height="240" alt="Amplang"' in html and "data:image/svg+xml" in html
    assert "srcset" not in html


def test_remembered_links_are_the_links_url_for_builds(app):
    from marketplace.templating import remembered_url_for

    cases = [("storefront.products", {}), ("storefront.product_detail", {"slug": "kue-lapis"}),
             ("storefront.products", {"q": "keripik pisang", "page": 2}), ("core.app_icon", {"size": 32}),
             ("static", {"filename": "style.css"})]
    for script_root in ("", "/pasar"):
        with app.test_request_context("/", base_url=f"http://localhost{script_root}"):
            for endpoint, values in cases:
                assert remembered_url_for(endpoint, **values) == url_for(endpoint, **values)
                assert remembered_url_for(endpoint, **values) == url_for(endpoint, **values)  # now remembered
    with app.test_request_context("/pasar/produk", base_url="http://localhost/pasar"):
        assert remembered_url_for("storefront.products").startswith("/pasar/")
    with app.test_request_context("/", base_url="https://toko.example"):
        assert remembered_url_for("storefront.products", _external=True) == "https://toko.example/produk"
        assert remembered_url_for("storefront.products", ids=[1, 2]) == url_for("storefront.products", ids=[1, 2])


def test_a_templates_links_are_built_once_per_process(app, client, monkeypatch):
    from werkzeug.routing import MapAdapter

    built, build = [], MapAdapter.build

    def counting_build(self, endpoint, *args, **kwargs):
        built.append(endpoint)
        return build(self, endpoint, *args, **kwargs)

    monkeypatch.setattr(MapAdapter, "build", counting_build)
    client.get("/kontak")
    first = len(built)
    page = client.get("/kontak").get_data(as_text=True)
    assert first >= 15 and 'href="/produk"' in page
    assert len(built) - first <= 1  # the second page builds only the language link (it names this page)


def test_a_crafted_long_link_is_built_but_not_kept(app, client):
    """The language link names the page with its query (`next=`): a visitor sending long made-up queries must
    not fill each worker's memory with links nobody else will see."""
    from marketplace.templating import REMEMBERED_URL_LENGTH

    remembered = app.extensions["remembered_urls"]
    client.get("/kontak")
    kept = len(remembered)
    page = client.get("/kontak?" + "x" * 2000).get_data(as_text=True)
    assert "x" * 2000 in page  # the link is right
    assert len(remembered) == kept and all(len(url) <= REMEMBERED_URL_LENGTH for url in remembered.values())
