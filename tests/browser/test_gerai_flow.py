"""Kasir takes goods in, opens the label sheet, sells by typing the label code (as a scanner does)."""
import pytest

from consignment import services
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_intake_labels_counter_sale_by_code_and_stock_decreases(page, live_server, make_user, make_product):
    product = make_product(name="Keripik Pisang Kepok 250 g", price=15000)
    kasir = make_user("kasir")

    page.goto(f"{live_server}/masuk")
    page.get_by_label("Email atau nomor HP").fill(kasir.email)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.get_by_role("link", name="Terima titipan").first.click()

    page.locator("#cari").fill("kripik pisang")  # the picker shows matches as the kasir types
    page.locator(f'#picks a[data-product-id="{product.id}"]').click()
    assert page.locator("input[name=product_id]").input_value() == str(product.id)
    page.get_by_label("Jumlah diterima").fill("40")
    page.get_by_role("button", name="Catat penerimaan").click()
    assert page.locator("#on-hand").inner_text() == "40"
    code = page.locator("h1").inner_text().split()[1]

    page.get_by_role("link", name="Cetak label").click()
    assert page.locator(".label").count() == 40
    first = page.locator(".label").first
    assert "Rp15.000" in first.inner_text() and code in first.inner_text()
    assert first.locator("svg rect").count() > 10  # a drawn barcode

    page.goto(f"{live_server}/gerai/kasir")
    scan = page.get_by_label("Pindai label, ketik kodenya, atau nama produk")
    for _ in range(3):  # a keyboard-wedge scanner types the code and presses Enter
        scan.fill(code)
        scan.press("Enter")
        page.wait_for_load_state()
    assert page.locator("#total").inner_text() == "Rp45.000"
    for typed in ("50rb", "Rp 50.000,-", "50000"):  # as cashiers write cash: the same rules as the server
        page.get_by_label("Uang diterima (Rp)").fill(typed)
        assert page.locator("#change").inner_text() == "Rp5.000"
    page.get_by_role("button", name="Catat penjualan").click()
    assert "Rp45.000" in page.content() and "Rp5.000" in page.content()

    page.goto(f"{live_server}/gerai/lot/{code}")
    assert page.locator("#on-hand").inner_text() == "37"
    assert services.on_hand(services.find_lot(code).id) == 37
