"""Dynamic QRIS at the counter, driven through midtransclient against the local Midtrans stand-in over HTTP."""
from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import func, select, update

from consignment import services as gerai
from consignment.models import PosCartLine, Sale, SaleLine
from marketplace import once
from marketplace.errors import DomainError
from marketplace.models import AuditEvent
from marketplace.extensions import db
from marketplace.timeutil import utcnow
from orders.midtrans import GatewayError
from qris import services as qris
from qris.models import CounterPayment
from tests.conftest import qris_string


@pytest.fixture
def counter(make_user, make_product, make_lot):
    """A kasir with two lots in the cart: 2 × Rp15.000 and 1 × Rp7.000 (Rp37.000)."""
    kasir = make_user("kasir")
    lot_a = make_lot(make_product(name="Keripik Pisang", price=15000), quantity=10, kasir=kasir)
    lot_b = make_lot(make_product(name="Amplang Ikan", price=7000), quantity=5, kasir=kasir)
    gerai.add_to_cart(kasir, lot_a, 2)
    gerai.add_to_cart(kasir, lot_b, 1)
    return kasir, lot_a, lot_b


def emv_crc16(text: str) -> str:
    """CRC-16/CCITT-FALSE as EMVCo QR payloads (QRIS) carry it in tag 63, written independently of the stub's."""
    crc = 0xFFFF
    for byte in text.encode("ascii"):
        crc ^= byte << 8
        for _bit in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return f"{crc:04X}"


def test_the_crc_check_used_below_is_the_emv_one():
    assert emv_crc16("123456789") == "29B1"  # the CRC-16/CCITT-FALSE check value


def sales() -> list[Sale]:
    db.session.expire_all()
    return list(db.session.scalars(select(Sale)))


def cart_of(kasir) -> dict[int, int]:
    return dict(db.session.execute(select(PosCartLine.lot_id, PosCartLine.quantity)
                                   .where(PosCartLine.cashier_id == kasir.id)).all())


def test_choosing_qris_charges_the_exact_cart_total_through_the_core_api_and_holds_the_lots(midtrans_stub, counter):
    kasir, lot_a, lot_b = counter
    payment = qris.start_payment(kasir, expected_total=37000)

    charge = midtrans_stub.charges[-1]
    assert charge["payment_type"] == "qris"
    assert charge["transaction_details"] == {"order_id": payment.number, "gross_amount": 37000}
    assert sum(item["price"] * item["quantity"] for item in charge["item_details"]) == 37000
    assert payment.number.startswith("QR") and payment.status == "pending" and payment.total == 37000
    # The QR shows exactly what Midtrans answered: an EMVCo payload for this amount whose last four characters
    # are the CRC-16/CCITT (poly 0x1021, start 0xFFFF) of everything before them, "6304" included.
    assert payment.qr_string == qris_string(payment.number, 37000)
    assert payment.qr_string.startswith("000201") and "540537000" in payment.qr_string
    assert payment.qr_string[-8:-4] == "6304" and payment.qr_string[-4:] == emv_crc16(payment.qr_string[:-4])
    assert payment.transaction_id == midtrans_stub.statuses[payment.number]["transaction_id"]
    assert payment.qr_url.endswith("/qr-code")
    assert [(line.lot_id, line.quantity, line.unit_price) for line in payment.lines] == [
        (lot_a.id, 2, 15000), (lot_b.id, 1, 7000)]
    # Held while the QR is shown: the counter cannot sell those units, nothing is sold, the cart is kept.
    assert (gerai.on_hand(lot_a.id), gerai.on_hand(lot_b.id)) == (8, 4)
    assert sales() == []
    assert cart_of(kasir) == {lot_a.id: 2, lot_b.id: 1}
    assert midtrans_stub.auth_headers[-1].startswith("Basic ")  # the server key, as for Snap


def test_the_rendered_qr_carries_exactly_the_qr_string(midtrans_stub, counter):
    payment = qris.start_payment(counter[0])
    png = io.BytesIO()
    qris.qr_code(payment).save(png, kind="png", scale=6, border=4)  # the same QR the page draws as SVG
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.getvalue())))
    assert [(code.format.name, code.text) for code in found] == [("QRCode", payment.qr_string)]
    svg = str(qris.qr_svg(payment))
    assert svg.startswith("<svg") and "width=" not in svg.split(">")[0]  # sized by CSS, not fixed


def test_a_paid_qr_records_one_sale_however_often_midtrans_and_the_page_say_so(midtrans_stub, counter):
    kasir, lot_a, lot_b = counter
    payment = qris.start_payment(kasir)
    midtrans_stub.mark(payment.number, "settlement")

    for _ in range(2):
        qris.handle_notification(midtrans_stub.signed(payment.number))
        qris.check_payment(payment.id)

    [sale] = sales()
    assert sale.payment_method == "qris" and sale.total == 37000 and sale.cashier_id == kasir.id
    assert sale.payment_reference == midtrans_stub.statuses[payment.number]["transaction_id"]
    assert sorted((line.lot_id, line.quantity, line.unit_price) for line in sale.lines) == sorted(
        [(lot_a.id, 2, 15000), (lot_b.id, 1, 7000)])
    assert db.session.get(CounterPayment, payment.id).status == "paid"
    assert db.session.get(CounterPayment, payment.id).sale_id == sale.id
    assert (gerai.on_hand(lot_a.id), gerai.on_hand(lot_b.id)) == (8, 4)  # the hold became the sale
    assert cart_of(kasir) == {}
    assert gerai.ledger_mismatches() == []


def test_a_capture_is_paid_only_with_fraud_status_accept_and_only_for_the_exact_amount(midtrans_stub, counter):
    kasir = counter[0]
    payment = qris.start_payment(kasir)
    for fraud in ("", "challenge"):
        midtrans_stub.mark(payment.number, "capture", fraud_status=fraud)
        assert qris.check_payment(payment.id).status == "pending"
    midtrans_stub.mark(payment.number, "settlement", gross_amount=36000)
    assert qris.check_payment(payment.id).status == "pending"
    assert sales() == []
    midtrans_stub.mark(payment.number, "capture", fraud_status="accept", gross_amount=37000)
    assert qris.check_payment(payment.id).status == "paid"
    assert len(sales()) == 1


@pytest.mark.parametrize("calls", ["notifications", "polls", "both"])
def test_notifications_and_polls_at_the_same_moment_make_exactly_one_sale(midtrans_stub, counter, at_once, app, calls):
    kasir, lot_a, _lot_b = counter
    payment = qris.start_payment(kasir)
    midtrans_stub.mark(payment.number, "settlement")
    notification = midtrans_stub.signed(payment.number)

    def notify():
        return qris.handle_notification(notification).status

    def poll():
        return qris.check_payment(payment.id).status

    chosen = {"notifications": [notify] * 4, "polls": [poll] * 4, "both": [notify, poll, notify, poll]}[calls]
    results = at_once(*chosen)
    assert results == ["paid"] * 4, results
    assert len(sales()) == 1
    assert db.session.scalar(select(func.count()).select_from(SaleLine)) == 2
    assert gerai.on_hand(lot_a.id) == 8
    assert gerai.ledger_mismatches() == []


@pytest.mark.parametrize("ending, status", [("expire", "expired"), ("cancel", "cancelled"), ("deny", "failed")])
def test_a_qr_that_ends_unpaid_records_nothing_releases_the_stock_and_keeps_the_cart(midtrans_stub, counter, ending,
                                                                                   status):
    kasir, lot_a, lot_b = counter
    payment = qris.start_payment(kasir)
    midtrans_stub.mark(payment.number, ending)
    qris.handle_notification(midtrans_stub.signed(payment.number))
    qris.check_payment(payment.id)  # a late poll changes nothing more

    assert db.session.get(CounterPayment, payment.id).status == status
    assert sales() == []
    assert (gerai.on_hand(lot_a.id), gerai.on_hand(lot_b.id)) == (10, 5)
    assert cart_of(kasir) == {lot_a.id: 2, lot_b.id: 1}
    assert gerai.ledger_mismatches() == []
    # A success arriving after it ended sells nothing (the goods were already back on the shelf), but the
    # shopper's money is owed back: the payment waits for a refund, shown on the POS.
    midtrans_stub.mark(payment.number, "settlement")
    qris.handle_notification(midtrans_stub.signed(payment.number))
    qris.handle_notification(midtrans_stub.signed(payment.number))
    assert sales() == [] and gerai.on_hand(lot_a.id) == 10
    assert db.session.get(CounterPayment, payment.id).status == "refund_needed"
    assert [owed.id for owed in qris.refunds_owed()] == [payment.id]


def test_a_refund_of_a_late_qris_payment_is_recorded_once_with_how_the_money_went_back(
        midtrans_stub, counter, make_user):
    kasir, _lot_a, _lot_b = counter
    pengurus = make_user("pengurus")
    payment = qris.start_payment(kasir)
    midtrans_stub.mark(payment.number, "expire")
    qris.handle_notification(midtrans_stub.signed(payment.number))
    with pytest.raises(DomainError):  # nothing is owed yet
        qris.record_refund(pengurus, payment.id, "transfer BRI 123")
    midtrans_stub.mark(payment.number, "settlement")
    qris.handle_notification(midtrans_stub.signed(payment.number))
    with pytest.raises(DomainError) as refused:
        qris.record_refund(pengurus, payment.id, "")
    assert refused.value.field == "note"

    key = once.new_key()
    qris.record_refund(pengurus, payment.id, "transfer BRI 123", once_key=key)
    again = qris.record_refund(pengurus, payment.id, "transfer BRI 123", once_key=key)  # the form sent twice
    assert again.status == "refunded" and again.refund_note == "transfer BRI 123"
    assert qris.refunds_owed() == []
    assert db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.startswith("qris.refund"))
                              .order_by(AuditEvent.id)).all() == ["qris.refund_needed", "qris.refunded"]


def test_a_qr_past_its_time_is_cancelled_at_midtrans_and_ends_expired(midtrans_stub, counter):
    kasir, lot_a, _lot_b = counter
    payment = qris.start_payment(kasir)
    assert qris.check_payment(payment.id).status == "pending"  # in time: still waiting
    db.session.execute(update(CounterPayment).values(expires_at=utcnow() - qris.EXPIRY_GRACE * 2))
    db.session.commit()

    assert qris.expire_stale_payments() == 1
    assert midtrans_stub.cancelled == [payment.number]
    assert db.session.get(CounterPayment, payment.id).status == "expired"
    assert gerai.on_hand(lot_a.id) == 10 and sales() == []


def test_the_expiry_cron_ends_qr_codes_left_open_and_releases_their_goods(midtrans_stub, counter, runner):
    kasir, lot_a, _lot_b = counter
    payment = qris.start_payment(kasir)
    midtrans_stub.mark(payment.number, "expire")  # the kasir closed the page; Midtrans let it expire
    db.session.execute(update(CounterPayment).values(expires_at=utcnow() - qris.EXPIRY_GRACE * 2))
    db.session.commit()
    result = runner.invoke(args=["expire-orders"])
    assert "Ended 1 QRIS" in result.output
    db.session.expire_all()
    assert db.session.get(CounterPayment, payment.id).status == "expired" and gerai.on_hand(lot_a.id) == 10


def test_the_kasir_cancels_a_shown_qr_at_midtrans_and_the_goods_are_released(midtrans_stub, counter):
    kasir, lot_a, _lot_b = counter
    payment = qris.start_payment(kasir)
    payment = qris.cancel_payment(kasir, payment.id)
    assert payment.status == "cancelled"
    assert midtrans_stub.statuses[payment.number]["transaction_status"] == "cancel"
    assert gerai.on_hand(lot_a.id) == 10 and sales() == []
    assert qris.cancel_payment(kasir, payment.id).status == "cancelled"  # again: nothing more happens
    assert gerai.on_hand(lot_a.id) == 10


def test_cancelling_a_qr_the_shopper_has_just_paid_records_the_sale_instead(midtrans_stub, counter):
    kasir = counter[0]
    payment = qris.start_payment(kasir)
    midtrans_stub.mark(payment.number, "settlement")
    assert qris.cancel_payment(kasir, payment.id).status == "paid"
    assert len(sales()) == 1


def test_a_forged_notification_changes_nothing(midtrans_stub, counter):
    payment = qris.start_payment(counter[0])
    midtrans_stub.mark(payment.number, "settlement")
    with pytest.raises(PermissionError):
        qris.handle_notification(midtrans_stub.signed(payment.number, key="SB-Mid-server-WRONG"))
    assert db.session.get(CounterPayment, payment.id).status == "pending" and sales() == []


def test_a_refused_charge_ends_the_payment_and_releases_the_hold(midtrans_stub, counter):
    kasir, lot_a, _lot_b = counter
    midtrans_stub.fail_next_create = True
    with pytest.raises(GatewayError):
        qris.start_payment(kasir)
    [payment] = db.session.scalars(select(CounterPayment)).all()
    assert payment.status == "failed"
    assert gerai.on_hand(lot_a.id) == 10 and cart_of(kasir) == {lot_a.id: 2, counter[2].id: 1}


def test_a_cart_with_more_than_the_shelf_is_refused_before_anything_is_charged(midtrans_stub, counter):
    kasir, _lot_a, lot_b = counter
    gerai.set_cart_quantity(kasir, lot_b.id, 6)
    with pytest.raises(DomainError) as refused:
        qris.start_payment(kasir)
    assert refused.value.field == "lines" and "Amplang Ikan" in refused.value.message
    assert midtrans_stub.charges == [] and db.session.scalars(select(CounterPayment)).all() == []
    assert gerai.on_hand(lot_b.id) == 5


def test_the_same_form_sent_twice_starts_one_charge(midtrans_stub, counter):
    kasir = counter[0]
    first = qris.start_payment(kasir, once_key="k" * 20)
    again = qris.start_payment(kasir, once_key="k" * 20)
    other = qris.start_payment(kasir, once_key="m" * 20)  # a new form while one waits: the same payment
    assert first.id == again.id == other.id and len(midtrans_stub.charges) == 1
