import pytest
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_shots(browser, live_server, make_member, make_user, make_category, make_product, tmp_path):
    make_category("Makanan Ringan")
    member = make_member(business_name="Keripik Acil Banjar", email="acil@test.id")
    make_product(member, name="Keripik Pisang Kepok 5")
    rows = ["nama,harga,satuan,kategori,deskripsi,status,foto"]
    for i in range(200):
        price = "15,5x" if i % 17 == 3 else f"{10 + i}rb"
        cat = "Kue Basah" if i % 29 == 5 else "Makanan Ringan"
        name = f"Keripik Pisang Kepok {i}" if i % 13 else f"Dodol Kandangan Rasa Durian Asli Tanpa Pengawet Kemasan Besar Sekali {i}"
        rows.append(f'{name},"{price}",bungkus 250 g,{cat},Renyah,terbit,')
    sheet = tmp_path / "produk-200.csv"
    sheet.write_text("\n".join(rows) + "\n")
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="id-ID")
    page = context.new_page()
    page.goto(f"{live_server}/masuk")
    page.get_by_label("Email atau nomor HP").fill("acil@test.id")
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.goto(f"{live_server}/kelola/impor")
    page.screenshot(path="/tmp/import-shots/upload.png")
    page.screenshot(path="/tmp/import-shots/upload-full.png", full_page=True)
    page.get_by_label("Daftar produk (CSV atau XLSX)").set_input_files(str(sheet))
    page.get_by_role("button", name="Unggah dan periksa").click()
    page.locator("#baris-2").wait_for()
    page.screenshot(path="/tmp/import-shots/preview.png")
    page.locator("#baris-5").scroll_into_view_if_needed()
    page.screenshot(path="/tmp/import-shots/preview-errors.png")
    print("scrollWidth", page.evaluate("document.documentElement.scrollWidth"))
    context.close()
