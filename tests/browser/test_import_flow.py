"""A member on a 360-px phone imports a spreadsheet: the photos are checked batch by batch without a tap, she
sees the bad row, saves the good ones, sees her products."""
import zipfile

import pytest

from tests.conftest import PASSWORD, jpeg_bytes, watch_csp

pytestmark = pytest.mark.browser


def test_member_previews_a_spreadsheet_with_a_bad_row_and_saves_the_rest(app, browser, live_server, make_member,
                                                                        tmp_path):
    app.config["IMPORT_BATCH_SECONDS"] = 0  # one photo a request: the page asks for the next one by itself
    make_member(business_name="Keripik Acil Banjar", email="acil@test.id")
    sheet = tmp_path / "produk.csv"
    sheet.write_text("nama,harga,satuan,status,foto\n"
                     "Keripik Pisang Kepok 250 g,15rb,bungkus 250 g,terbit,keripik.jpg\n"
                     "Amplang Ikan Tenggiri,Rp22.500,bungkus,terbit,amplang.jpg\n"
                     "Dodol Kandangan,\"15,5x\",kotak,draft,\n")
    photos = tmp_path / "foto.zip"
    with zipfile.ZipFile(photos, "w") as archive:
        archive.writestr("keripik.jpg", jpeg_bytes(seed=3))
        archive.writestr("amplang.jpg", jpeg_bytes(seed=4))

    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="id-ID")
    page = context.new_page()
    page.set_default_timeout(15_000)
    violations = watch_csp(page)
    try:
        page.goto(f"{live_server}/masuk")
        page.get_by_label("Email atau nomor HP").fill("acil@test.id")
        page.get_by_label("Kata sandi").fill(PASSWORD)
        page.get_by_role("button", name="Masuk").click()
        page.goto(f"{live_server}/kelola/produk")
        page.get_by_role("link", name="Tambah banyak dari spreadsheet").click()
        page.get_by_label("Daftar produk (CSV atau XLSX)").set_input_files(str(sheet))
        page.get_by_label("Foto (satu berkas ZIP, boleh kosong)").set_input_files(str(photos))
        page.get_by_role("button", name="Unggah dan periksa").click()

        bad = page.locator("#baris-4")
        bad.wait_for()
        assert "Baris 4, kolom harga: “15,5x” bukan harga." in bad.inner_text()
        assert "Tidak disimpan" in bad.inner_text()
        assert "Baru" in page.locator("#baris-2").inner_text() and "1 foto" in page.locator("#baris-2").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, "the preview scrolls sideways"

        page.get_by_role("button", name="Simpan 2 produk").first.click()
        page.get_by_text("Tersimpan: 2 produk baru").wait_for()
        listing = page.locator("main").inner_text()
        assert "Keripik Pisang Kepok 250 g" in listing and "Amplang Ikan Tenggiri" in listing
        assert "Dodol Kandangan" not in listing
        assert violations == [], violations
    finally:
        context.close()
