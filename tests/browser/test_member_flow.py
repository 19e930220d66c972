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
