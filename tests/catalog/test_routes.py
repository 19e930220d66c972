import io

import pytest
from sqlalchemy import func, select

from catalog.models import Product
from marketplace.extensions import db
from tests.conftest import jpeg_bytes


def test_member_creates_a_product_with_a_photo_from_the_form(client, login_as):
    member = login_as("member")
    response = client.post("/kelola/produk/baru", content_type="multipart/form-data", data={
        "name": "Keripik Pisang Kepok 250 g", "price": "15.000", "unit": "bungkus 250 g", "category_id": "",
        "description": "Renyah", "status": "published", "photos": [(io.BytesIO(jpeg_bytes()), "hp.jpg")],
    })
    assert response.status_code == 302
    product = db.session.scalar(select(Product))
    assert (product.member_id, product.price, len(product.photos)) == (member.id, 15000, 1)
    assert client.get("/produk?q=kripik+pisang").get_data(as_text=True).count("Keripik Pisang Kepok 250 g") >= 1


def test_rejected_photo_says_why_and_keeps_the_typed_form(client, login_as, images):
    login_as("member")
    response = client.post("/kelola/produk/baru", content_type="multipart/form-data", data={
        "name": "Amplang Ikan Haruan", "price": "28.000", "unit": "bungkus 250 g", "category_id": "",
        "description": "Gurih sekali", "status": "published", "photos": [(io.BytesIO(images.text_as_jpg()), "foto.jpg")],
    })
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "foto.jpg: bukan file gambar JPEG, PNG, atau WebP." in page
    assert 'value="Amplang Ikan Haruan"' in page and 'value="28.000"' in page and "Gurih sekali" in page
    assert db.session.scalar(select(func.count(Product.id))) == 0


def test_an_empty_photo_file_is_named_not_silently_dropped_and_the_form_kept(client, login_as):
    login_as("member")
    response = client.post("/kelola/produk/baru", content_type="multipart/form-data", data={
        "name": "Amplang Ikan Haruan", "price": "28.000", "unit": "bungkus 250 g", "category_id": "",
        "description": "Gurih sekali", "status": "published",
        "photos": [(io.BytesIO(jpeg_bytes()), "bagus.jpg"), (io.BytesIO(b""), "kosong.jpg")],
    })
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "kosong.jpg: file kosong." in page
    assert 'value="Amplang Ikan Haruan"' in page and 'value="28.000"' in page and "Gurih sekali" in page
    assert db.session.scalar(select(func.count(Product.id))) == 0


def test_price_typed_with_cents_is_explained(client, login_as):
    login_as("member")
    response = client.post("/kelola/produk/baru", data={"name": "Kue Lam", "price": "60.000,50", "unit": "loyang",
                                                        "status": "draft", "category_id": ""})
    assert "tidak memakai sen: tulis mis. 15.000" in response.get_data(as_text=True)


@pytest.mark.parametrize("typed", ["15rb", "Rp 15.000,-", "15 ribu"])
def test_price_typed_the_indonesian_way_is_saved_as_whole_rupiah(client, login_as, typed):
    login_as("member")
    response = client.post("/kelola/produk/baru", data={"name": "Kue Lam", "price": typed, "unit": "loyang",
                                                        "status": "draft", "category_id": ""})
    assert response.status_code == 302
    assert db.session.scalar(select(Product.price).where(Product.name == "Kue Lam")) == 15000


def test_member_list_shows_only_own_products(client, login_as, make_product):
    make_product(name="Produk Tetangga")
    member = login_as("member")
    make_product(member, name="Produk Saya")
    page = client.get("/kelola/produk").get_data(as_text=True)
    assert "Produk Saya" in page and "Produk Tetangga" not in page


def test_member_archives_own_product_and_it_leaves_the_storefront(client, login_as, make_product):
    member = login_as("member")
    product = make_product(member, name="Bingka Kentang")
    assert client.get(f"/produk/{product.slug}").status_code == 200
    client.post(f"/kelola/produk/{product.id}/status", data={"status": "archived"})
    assert client.get(f"/produk/{product.slug}").status_code == 404


def test_pengurus_adds_a_category(client, auth, make_user):
    auth.login(make_user("pengurus").email)
    assert client.post("/kelola/kategori", data={"name": "Kerajinan"}).status_code == 302
    assert "Kerajinan" in client.get("/kelola/kategori").get_data(as_text=True)


def test_photo_variants_are_served_with_long_cache_headers(client, make_product):
    product = make_product(photos=1)
    response = client.get(f"/media/photos/{product.photos[0].variant_name(320)}")
    assert response.status_code == 200 and response.mimetype == "image/webp"
    assert "max-age=31536000" in response.headers["Cache-Control"] and "immutable" in response.headers["Cache-Control"]


def test_originals_cannot_be_fetched(client, make_product):
    product = make_product(photos=1)
    photo = product.photos[0]
    assert client.get(f"/media/photos/../../private/originals/{photo.content_hash[:2]}/{photo.content_hash}.jpg").status_code == 404


def test_a_second_product_with_a_name_the_business_already_uses_asks_first(client, login_as, make_product):
    member = login_as("member")
    make_product(member, name="Keripik Pisang Kepok 250 g")
    data = {"name": "keripik pisang kepok 250 g ", "price": "15.000", "unit": "bungkus", "status": "draft"}
    asked = client.post("/kelola/produk/baru", data=data)
    page = asked.get_data(as_text=True)
    assert asked.status_code == 422 and "sudah punya produk bernama" in page and 'name="same_name_ok"' in page
    assert db.session.scalar(select(func.count(Product.id))) == 1
    assert client.post("/kelola/produk/baru", data={**data, "same_name_ok": "y"}).status_code == 302
    assert db.session.scalar(select(func.count(Product.id))) == 2
