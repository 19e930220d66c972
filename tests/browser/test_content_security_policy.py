"""The main pages work under the Content-Security-Policy: no violation reported, the scripts run (print
buttons, search suggestions) and the checkout may still send the shopper on to Midtrans Snap.
(The `page` fixture also fails any browser flow in which the browser reports a CSP violation.)"""
import pytest

from consignment import services as gerai
from consignment.services import LineRequest
from marketplace.timeutil import local_today
from settlement import services as settlement
from tests.conftest import PASSWORD, watch_csp

pytestmark = pytest.mark.browser


def test_main_pages_and_print_buttons_work_under_the_content_security_policy(page, live_server, make_user,
                                                                              make_product, make_lot):
    product = make_product(name="Keripik Pisang Kepok 250 g", price=15000, photos=1)
    kasir, pengurus = make_user("kasir"), make_user("pengurus")
    lot = make_lot(product=product, quantity=10, kasir=kasir)
    sale = gerai.record_counter_sale(kasir, [LineRequest(lot.id, 1)], "cash")
    period = settlement.close_period(pengurus, settlement.open_period(pengurus, local_today()).id)
    page.add_init_script("window.print = function () { window.__printed = (window.__printed || 0) + 1; };")

    for path in ("/", "/produk", f"/produk/{product.slug}", "/keranjang", "/transparansi", "/tentang", "/masuk"):
        assert page.goto(f"{live_server}{path}").ok, path
    page.goto(f"{live_server}/produk")
    page.get_by_label("Cari").press_sequentially("kerip", delay=50)  # suggest.js asks /produk/saran
    page.wait_for_load_state("networkidle")

    page.goto(f"{live_server}/masuk")
    page.get_by_label("Email atau nomor HP").fill(pengurus.email)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url("**/dasbor")
    for path in ("/dasbor", "/gerai/kasir", f"/gerai/lot/{lot.code}", "/gerai/laporan/penjualan", "/admin/koperasi",
                 f"/pernyataan/{period.payouts[0].id}", f"/gerai/lot/{lot.code}/label",
                 f"/gerai/penjualan/{sale.id}/struk"):
        assert page.goto(f"{live_server}{path}").ok, path
        if page.locator("[data-print]:visible").count():  # the POS's offline receipt keeps its button hidden
            before = page.evaluate("window.__printed || 0")
            page.locator("[data-print]:visible").first.click()
            assert page.evaluate("window.__printed || 0") == before + 1, f"{path}: the Print button did nothing"


def test_online_checkout_may_go_on_to_midtrans_snap_under_the_policy(browser, live_server, midtrans_stub,
                                                                     make_product, make_lot):
    product = make_product(name="Amplang Ikan Tenggiri", price=25000)
    make_lot(product=product, quantity=5)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    violations = watch_csp(page)
    page.goto(f"{live_server}/produk/{product.slug}")
    page.get_by_role("button", name="Masukkan keranjang").click()
    page.get_by_role("link", name="Pesan", exact=True).click()
    page.get_by_label("Nama Anda").fill("Budi Pembeli")
    page.get_by_label("Nomor WhatsApp").fill("0812 3333 4444")
    page.locator("input[name=payment_method][value=midtrans]").check()
    page.get_by_role("button", name="Kirim pesanan").click()
    page.wait_for_url(f"{midtrans_stub.url}/snap/v4/redirection/**")  # form-action allows Snap's origin
    context.close()
    assert violations == []


def test_an_injected_inline_event_handler_does_not_run(browser, live_server):
    # Defence in depth behind Jinja's escaping: markup that slipped into a page could not run script.
    context = browser.new_context()
    page = context.new_page()
    violations = watch_csp(page)
    page.goto(f"{live_server}/produk")
    page.evaluate("""document.body.insertAdjacentHTML('beforeend',
        '<img src="/tidak-ada.png" onerror="window.__xss = 1">')""")
    page.wait_for_timeout(500)
    assert page.evaluate("window.__xss") is None
    assert page.evaluate("document.querySelector('img[onerror]') !== null")
    context.close()
    assert any("inline event handler" in v for v in violations), violations
