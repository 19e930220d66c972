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


# --- the member's own product code (sku) --------------------------------------------------------------

def _new_product(client, **fields):
    data = {"name": "Keripik Pisang Kepok", "price": "15.000", "unit": "bungkus 250 g", "category_id": "",
            "description": "", "status": "published"}
    data.update(fields)
    return client.post("/kelola/produk/baru", content_type="multipart/form-data", data=data)


def test_a_member_gives_her_product_a_code_and_sees_it_in_her_list(client, login_as):
    login_as("member")
    assert _new_product(client, sku="  KRP-250 ").status_code == 302
    product = db.session.scalar(select(Product))
    assert product.sku == "KRP-250"
    assert 'value="KRP-250"' in client.get(f"/kelola/produk/{product.id}/ubah").get_data(as_text=True)
    assert "kode KRP-250" in client.get("/kelola/produk").get_data(as_text=True)
    client.post(f"/kelola/produk/{product.id}/ubah", content_type="multipart/form-data", data={
        "name": product.name, "price": "15.000", "unit": product.unit, "category_id": "", "description": "",
        "status": "published", "sku": ""})
    db.session.expire_all()
    assert db.session.get(Product, product.id).sku is None  # emptied on the form: no code


def test_a_code_the_member_already_uses_is_refused_with_a_message_and_the_form_kept(client, login_as):
    login_as("member")
    _new_product(client, name="Keripik Pisang Kepok", sku="KRP-250")
    response = _new_product(client, name="Keripik Singkong Balado", price="12.500", sku="krp-250")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Kode krp-250 sudah dipakai untuk “Keripik Pisang Kepok”. Pilih kode lain." in page
    assert 'value="Keripik Singkong Balado"' in page and 'value="12.500"' in page and 'value="krp-250"' in page
    assert db.session.scalar(select(func.count(Product.id))) == 1


def test_another_member_may_use_the_same_code(client, auth, make_member):
    first, second = make_member(), make_member()
    for member in (first, second):
        auth.login(member.user.email)
        assert _new_product(client, sku="KRP-250").status_code == 302
        auth.logout()
    assert sorted(db.session.scalars(select(Product.member_id).where(Product.sku == "KRP-250"))) == \
        sorted([first.id, second.id])


def test_the_same_new_code_saved_at_the_same_moment_is_refused_by_the_database_with_the_message(
        app, make_member, monkeypatch):
    """Both saves passed the check before either was committed, one typing K-1 and the other k-1: the unique
    index (member, lower(code)) refuses the second, which is told so in Indonesian and leaves nothing
    behind — not its product, not its photo's files."""
    from catalog import services
    from marketplace.errors import DomainError
    from marketplace.photos import public_dir

    member = make_member()
    monkeypatch.setattr(services, "_check_sku_free", lambda *args, **kwargs: None)  # as if both checked at once
    services.create_product(member.user, services.ProductData(name="Keripik A", price=10000, unit="pcs", sku="K-1"))
    with pytest.raises(DomainError) as refused:
        services.create_product(member.user, services.ProductData(name="Keripik B", price=10000, unit="pcs",
                                                                  sku="k-1"),
                                [services.Upload("b.jpg", jpeg_bytes(seed=5))])
    assert refused.value.field == "sku" and "Kode k-1 baru saja dipakai untuk produk lain" in str(refused.value)
    assert list(db.session.scalars(select(Product.name).where(Product.member_id == member.id))) == ["Keripik A"]
    photos = public_dir(app.config["MEDIA_ROOT"])
    assert not photos.exists() or not any(path.is_file() for path in photos.rglob("*"))


def test_an_edit_form_without_the_code_field_keeps_the_code(client, login_as):
    """A form opened before the code was on it (or any client that does not send the field) changes the rest
    and leaves the code alone; only an emptied field removes it."""
    login_as("member")
    _new_product(client, sku="KRP-250")
    product = db.session.scalar(select(Product))
    response = client.post(f"/kelola/produk/{product.id}/ubah", content_type="multipart/form-data", data={
        "name": "Keripik Pisang Kepok Manis", "price": "16.000", "unit": product.unit, "category_id": "",
        "description": "", "status": "published"})
    assert response.status_code == 302
    db.session.expire_all()
    assert (db.session.get(Product, product.id).name, db.session.get(Product, product.id).sku) == \
        ("Keripik Pisang Kepok Manis", "KRP-250")


def test_an_import_updates_the_product_by_the_code_given_on_the_form(client, login_as):
    import io as _io

    from catalog import bulk_import
    from catalog.bulk_import import ImportFile
    from marketplace.once import new_key

    member = login_as("member")
    _new_product(client, name="Keripik Pisang Kepok", sku="KRP-250")
    sheet = ImportFile("produk.csv", _io.BytesIO("nama,harga,satuan,sku\nKeripik Pisang Kepok 250 g,17000,bungkus,krp-250\n"
                                                 .encode()))
    result = bulk_import.confirm_import(member.user, bulk_import.start_import(member.user, None, sheet, None), new_key())
    assert (result.created, result.updated) == (0, 1)
    product = db.session.scalar(select(Product))
    assert (product.name, product.price) == ("Keripik Pisang Kepok 250 g", 17000)
