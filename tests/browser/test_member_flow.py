"""A member on a phone adds a product with a photo, and a shopper finds it by searching."""
import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_member_adds_product_with_photo_and_finds_it_by_search(page, live_server, make_member, make_category,
                                                               images, tmp_path):
    make_category("Makanan Ringan")
    make_member(business_name="Keripik Acil Banjar", email="acil@test.id")
    photo = tmp_path / "IMG_20261124.jpg"
    photo.write_bytes(images.rotated_phone_photo())

    page.goto(f"{live_server}/masuk")
    page.get_by_label("Email atau nomor HP").fill("acil@test.id")
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.get_by_role("link", name="Tambah produk").click()

    page.get_by_label("Nama produk").fill("Keripik Pisang Kepok 250 g")
    page.get_by_label("Harga (Rp)").fill("15.000")
    page.get_by_label("Satuan").fill("bungkus 250 g")
    page.get_by_label("Kategori").select_option(label="Makanan Ringan")
    page.get_by_label("Deskripsi").fill("Renyah, tanpa pengawet.")
    page.get_by_label("Status").select_option("published")
    page.locator("input[type=file]").set_input_files(str(photo))
    page.get_by_role("button", name="Simpan").click()
    page.get_by_text("tersimpan").wait_for()
    assert page.locator("#foto img").count() == 1

    page.goto(f"{live_server}/produk")
    page.get_by_label("Cari").fill("kripik pisang")
    page.locator("form[role=search] button[type=submit]").click()
    tile = page.locator(".tile", has_text="Keripik Pisang Kepok 250 g")
    tile.wait_for()
    assert "Rp15.000" in tile.inner_text() and "Keripik Acil Banjar" in tile.inner_text()

    tile.locator("a").click()
    image = page.locator(".gallery img").first
    image.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    size = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert size[0] < size[1], "the phone photo is shown upright (portrait)"
    assert image.get_attribute("src").endswith(".webp")


def test_a_big_camera_photo_is_made_smaller_in_the_phone_before_upload(page, live_server, make_member, images,
                                                                        tmp_path, app):
    from catalog.models import Product
    from marketplace.photos import _original_path as original_path
    from marketplace.extensions import db

    make_member(business_name="Sasirangan Galuh", email="galuh@test.id")
    photo = tmp_path / "IMG_20261124_101500.jpg"
    photo.write_bytes(images.big_phone_photo())
    assert photo.stat().st_size > app.config["MAX_UPLOAD_MB"] * 1024 * 1024  # the server alone would refuse it

    page.goto(f"{live_server}/masuk")
    page.get_by_label("Email atau nomor HP").fill("galuh@test.id")
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.goto(f"{live_server}/kelola/produk/baru")
    page.get_by_label("Nama produk").fill("Kain Sasirangan Motif Gigi Haruan")
    page.get_by_label("Harga (Rp)").fill("350000")
    page.get_by_label("Satuan").fill("lembar")
    page.locator("input[type=file]").set_input_files(str(photo))
    page.get_by_role("button", name="Simpan").click()
    page.get_by_text("tersimpan").wait_for()

    db.session.expire_all()
    product = db.session.query(Product).filter_by(name="Kain Sasirangan Motif Gigi Haruan").one()
    stored = product.photos[0]
    assert (stored.width, stored.height) == (1536, 2048)  # upright (portrait) and at most 2048 px
    sent = original_path(app.config["MEDIA_ROOT"], stored.content_hash, stored.original_ext)
    assert sent.stat().st_size < photo.stat().st_size / 2
