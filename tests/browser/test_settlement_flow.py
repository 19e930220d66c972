"""Pengurus closes the month, opens a statement, marks it paid; the member sees it on a phone."""
import pytest

from consignment import services as gerai
from consignment.services import LineRequest
from marketplace.timeutil import local_today
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def sign_in(page, base, login):
    page.goto(f"{base}/masuk")
    page.get_by_label("Email atau nomor HP").fill(login)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()


def test_close_settlement_print_statement_mark_paid_member_sees_it(page, browser, live_server, make_user,
                                                                   make_member, make_product, make_lot):
    member = make_member(business_name="Keripik Acil Banjar", email="acil@test.id")
    lot = make_lot(make_product(member, price=15000), quantity=40)
    gerai.record_counter_sale(make_user("kasir"), [LineRequest(lot.id, 3)], "cash")
    pengurus = make_user("pengurus")

    sign_in(page, live_server, pengurus.email)
    page.goto(f"{live_server}/penyelesaian")
    page.get_by_label("Tanggal batas").fill(local_today().isoformat())  # the default is the end of last month
    page.get_by_role("button", name="Buka dan tinjau").click()
    assert "Rp38.250" in page.locator("table").inner_text()  # 45.000 - 15 % commission
    page.get_by_role("button", name="Tutup penyelesaian").click()
    page.get_by_text("laporan dibekukan").wait_for()
    page.get_by_role("link", name="belum dibayar").click()

    assert page.locator("#payable").inner_text() == "Rp38.250"
    pdf = page.context.request.get(page.url + ".pdf")
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    page.emulate_media(media="print")
    assert page.locator(".top").is_hidden() and page.locator("article.statement").is_visible()
    page.emulate_media(media="screen")

    page.get_by_label("Dibayar dengan").select_option("bank_transfer")
    page.get_by_label("Referensi transfer").fill("BRI-20261130-01")
    page.get_by_role("button", name="Tandai dibayar").click()
    assert "BRI-20261130-01" in page.locator("#payment-status").inner_text()

    phone = browser.new_context(viewport={"width": 390, "height": 844})
    member_page = phone.new_page()
    sign_in(member_page, live_server, "acil@test.id")
    member_page.goto(f"{live_server}/saya/saldo")
    row = member_page.locator("tbody tr").first
    assert "Rp38.250" in row.inner_text() and "BRI-20261130-01" in row.inner_text()
    assert member_page.locator("#balance").inner_text() == "Rp0"
    phone.close()
