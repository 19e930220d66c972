"""Dynamic QRIS at the counter in Debian's chromium at 360×740, against the local Midtrans stand-in: the QR
is shown (and decodes to exactly Midtrans' qr_string), the stand-in marks it paid and notifies, the page
turns into the receipt; an expired QR sends the kasir back to the cart with nothing recorded."""
from __future__ import annotations

import io
import os

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select

from consignment import services as gerai
from consignment.models import Sale
from marketplace.extensions import db
from qris.models import CounterPayment
from tests.browser.phone_pages import PHONE
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def phone(page):
    """The `page` fixture (CSP violations fail the test) at the size of a cheap Android phone."""
    page.set_viewport_size(PHONE)
    return page


def _show_qr(phone, live_server, kasir, lot, quantity: int) -> CounterPayment:
    phone.goto(f"{live_server}/masuk")
    phone.get_by_label("Email atau nomor HP").fill(kasir.email)
    phone.get_by_label("Kata sandi").fill(PASSWORD)
    phone.get_by_role("button", name="Masuk").click()
    phone.goto(f"{live_server}/gerai/kasir")
    for _ in range(quantity):
        phone.locator("#kode").fill(lot.code)
        phone.locator("#kode").press("Enter")
        phone.wait_for_load_state()
    assert "QRIS dinamis" in phone.locator("#qris-mode").inner_text()
    phone.locator("select[name=payment_method]").select_option("qris")
    phone.get_by_role("button", name="Catat penjualan").click()
    phone.wait_for_url("**/gerai/kasir/qris/*")
    db.session.expire_all()
    return db.session.scalar(select(CounterPayment))


def test_a_qris_sale_shows_the_qr_and_turns_into_the_receipt_once_midtrans_says_paid(
        phone, live_server, midtrans_stub, make_user, make_product, make_lot, tmp_path):
    kasir = make_user("kasir")
    lot = make_lot(make_product(name="Keripik Pisang Kepok 250 g", price=15000), quantity=10, kasir=kasir)
    payment = _show_qr(phone, live_server, kasir, lot, 3)

    assert phone.locator("#qris-amount").inner_text() == "Rp45.000"
    assert ":" in phone.locator("#qris-countdown").inner_text()
    qr_box = phone.locator("#qris-code").bounding_box()
    assert qr_box["width"] >= 300 and qr_box["x"] >= 0 and qr_box["x"] + qr_box["width"] <= PHONE["width"]
    shot = phone.locator("#qris-code").screenshot()
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))
    assert [code.text for code in found] == [payment.qr_string]  # exactly what Midtrans gave
    phone.screenshot(path=os.environ.get("QRIS_SCREENSHOT", str(tmp_path / "qris.png")), full_page=True)
    assert gerai.on_hand(lot.id) == 7 and db.session.scalars(select(Sale)).all() == []

    midtrans_stub.mark(payment.number, "settlement")
    assert midtrans_stub.notify(live_server, payment.number) == 200
    phone.wait_for_url("**/struk")  # the page's check finds it paid
    transaction_id = midtrans_stub.statuses[payment.number]["transaction_id"]
    assert "Rp45.000" in phone.content() and transaction_id in phone.content()
    db.session.expire_all()
    [sale] = db.session.scalars(select(Sale)).all()
    assert (sale.payment_method, sale.payment_reference, sale.total) == ("qris", transaction_id, 45000)
    assert gerai.on_hand(lot.id) == 7


def test_an_expired_qr_records_nothing_and_the_stock_is_back(phone, live_server, midtrans_stub, make_user,
                                                             make_product, make_lot):
    kasir = make_user("kasir")
    lot = make_lot(make_product(name="Amplang Ikan Tenggiri", price=12000), quantity=4, kasir=kasir)
    payment = _show_qr(phone, live_server, kasir, lot, 2)
    assert gerai.on_hand(lot.id) == 2

    midtrans_stub.mark(payment.number, "expire")
    phone.wait_for_url(f"{live_server}/gerai/kasir")
    assert "Kode QRIS kedaluwarsa sebelum dibayar" in phone.content()
    assert "Amplang Ikan Tenggiri" in phone.content()  # still in the cart
    db.session.expire_all()
    assert db.session.scalars(select(Sale)).all() == [] and gerai.on_hand(lot.id) == 4
