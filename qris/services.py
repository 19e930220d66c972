"""Dynamic QRIS at the counter: charge the kasir's cart through Midtrans' Core API, hold its lots while
the QR is shown, and record the sale only when Midtrans confirms the payment.

- Start (`start_payment`): in one transaction the one-time key is claimed, the kasir's cart is read, its
  lots are locked (id order) and held with `reserve` movements (refused, like a sale, when a lot would go
  below zero), and a pending CounterPayment with a snapshot of the lines and prices is written. Only then,
  outside any transaction (a slow gateway never keeps the lot locks), Midtrans is asked to charge exactly
  that total with payment_type qris; its transaction id, `qr_string` and QR link are stored. A charge
  that fails ends the payment as failed and releases the hold.
- Confirm (`check_payment` from the kasir's page, `handle_notification` from Midtrans): the status
  always comes from Midtrans' status API (a notification is only a signed hint), with the same rules
  as online orders (`orders.midtrans.classify` and `amount_matches`). Success moves the payment
  pending -> paid by a compare-and-set UPDATE; only the request whose UPDATE won releases the hold,
  sells the same units (sale lines snapshotted, reference = Midtrans' transaction id) and takes the
  lines out of the kasir's cart. Any number of notifications and polls, also at the same moment from
  two workers, make exactly one sale.
- End without payment (expire, cancel, deny/failure, or the QR's time ran out and Midtrans agrees): the
  same compare-and-set to expired/cancelled/failed, and the winner releases the hold. Nothing is sold and
  the cart is left as it was.
"""
from __future__ import annotations

import logging
from datetime import timedelta

import segno
from flask import current_app
from marketplace.i18n import gettext as _
from markupsafe import Markup
from sqlalchemy import delete, select, update
from sqlalchemy.orm import selectinload

from consignment import services as gerai
from consignment.models import KIND_RELEASE, KIND_RESERVE, ConsignmentLot, PosCartLine
from marketplace import once
from marketplace.accounts import system_user
from marketplace.audit import record_event
from marketplace.errors import DomainError, NotFound
from marketplace.extensions import db
from marketplace.models import User
from marketplace.money import format_rupiah
from marketplace.numbering import add_numbered
from marketplace.timeutil import utcnow
from marketplace.transaction import transaction
from orders import midtrans

from .models import (CANCEL, CANCELLED, EXPIRE, EXPIRED, FAIL, FAILED, FLAG_REFUND, NUMBER_PREFIX, PAID, PAY,
                     PENDING, REFUND, REFUND_NEEDED, TRANSITIONS, CounterPayment, CounterPaymentLine)

log = logging.getLogger(__name__)
# After the QR's own expiry, Midtrans is given this long to report it before the page asks it to cancel.
EXPIRY_GRACE = timedelta(seconds=30)
# What Midtrans' final statuses mean for a counter payment (anything else unpaid and final is `fail`).
ENDINGS = {"expire": EXPIRE, "cancel": CANCEL}
CLOSED_AUDIT = {EXPIRED: "qris.expired", CANCELLED: "qris.cancelled", FAILED: "qris.failed"}


def dynamic_mode() -> bool:
    """Whether QRIS at the counter is charged through Midtrans (else: the static sticker and a typed reference)."""
    return bool(current_app.config.get("QRIS_DYNAMIC", True)) and midtrans.gateway() is not None


def owns(order_id) -> bool:
    """Whether a Midtrans order_id is a counter payment's (online orders have their own prefix)."""
    return str(order_id or "").startswith(NUMBER_PREFIX)


def pending_for(cashier: User) -> CounterPayment | None:
    """The kasir's QRIS payment still waiting for the shopper, if any."""
    return db.session.scalar(select(CounterPayment).where(CounterPayment.cashier_id == cashier.id,
                                                          CounterPayment.status == PENDING)
                             .order_by(CounterPayment.id.desc()).limit(1))


def get_payment(payment_id: int) -> CounterPayment:
    payment = db.session.scalar(select(CounterPayment).where(CounterPayment.id == payment_id).options(
        selectinload(CounterPayment.lines).selectinload(CounterPaymentLine.lot).selectinload(ConsignmentLot.product)))
    if payment is None:
        raise NotFound(_("Payment not found."))
    return payment


# --- starting -------------------------------------------------------------------------------------

def start_payment(cashier: User, expected_total: int | None = None, once_key: str | None = None) -> CounterPayment:
    """Hold the kasir's cart and charge it by QRIS. The form sent twice (`once_key`) starts one payment;
    a kasir with a payment still waiting gets that one back (finish or cancel it first).
    Raises DomainError (empty cart, not enough stock, the cart changed) or midtrans.GatewayError."""
    gw = midtrans.gateway()
    if gw is None or not dynamic_mode():
        raise DomainError(_("Dynamic QRIS is off: use the QRIS sticker and type the reference."),
                          field="payment_method")
    minutes = int(current_app.config.get("QRIS_EXPIRY_MINUTES", 15))
    with transaction():
        first = once.claim(once_key, "qris.start", cashier)
        if first is not None:
            return get_payment(first)
        waiting = pending_for(cashier)
        payment = waiting or _hold_cart(cashier, expected_total, minutes)
        once.remember(once_key, payment.id)
    if waiting is not None:  # charged by the request that made it
        return payment
    items = [{"id": line.lot.code, "price": line.unit_price, "quantity": line.quantity,
              "name": line.lot.product.name[:50]} for line in payment.lines]
    try:
        answer = gw.charge_qris(order_id=payment.number, gross_amount=payment.total, items=items,
                                expiry_minutes=minutes)
    except midtrans.GatewayError:
        _end(payment.id, FAIL, "charge refused", cashier)
        raise
    if not answer.get("qr_string") or not midtrans.amount_matches(answer, payment.total):
        _end(payment.id, FAIL, "charge without a QR", cashier)
        raise midtrans.GatewayError(_("The payment service did not give a QR code; try again or use the sticker."))
    qr_url = next((action.get("url", "") for action in answer.get("actions") or []
                   if action.get("name") == "generate-qr-code"), "")
    with transaction():
        db.session.execute(update(CounterPayment).where(CounterPayment.id == payment.id)
                           .values(transaction_id=str(answer.get("transaction_id", ""))[:100],
                                   qr_string=answer["qr_string"], qr_url=str(qr_url)[:500])
                           .execution_options(synchronize_session=False))
    db.session.refresh(payment)
    return payment


def _hold_cart(cashier: User, expected_total: int | None, minutes: int) -> CounterPayment:
    """A pending payment for the kasir's cart, its lots held (inside the caller's transaction)."""
    rows = db.session.execute(select(PosCartLine.lot_id, PosCartLine.quantity)
                              .where(PosCartLine.cashier_id == cashier.id).order_by(PosCartLine.id)).all()
    if not rows:
        raise DomainError(_("The cart is empty: this sale may already be recorded. Check the recent sales."))
    wanted: dict[int, int] = {}
    for row in rows:
        wanted[row.lot_id] = wanted.get(row.lot_id, 0) + row.quantity
    lots = {lot.id: lot for lot in db.session.scalars(
        select(ConsignmentLot).where(ConsignmentLot.id.in_(wanted)).options(selectinload(ConsignmentLot.product)))}
    gerai.lock_lots(wanted)
    total = sum(lots[lot_id].unit_price * qty for lot_id, qty in wanted.items())
    if expected_total is not None and total != expected_total:
        raise DomainError(_("The cart changed on another screen; check the items and the total (%(total)s).",
                            total=format_rupiah(total)), field="lines")
    now = utcnow()
    payment = add_numbered(CounterPayment(cashier_id=cashier.id, total=total, status=PENDING, created_at=now,
                                          expires_at=now + timedelta(minutes=minutes)),
                           lambda payment_id: f"{NUMBER_PREFIX}{now:%y%m%d}-{payment_id:06d}")
    for lot_id, qty in wanted.items():
        price = lots[lot_id].unit_price
        db.session.add(CounterPaymentLine(payment=payment, lot_id=lot_id, quantity=qty, unit_price=price,
                                          line_total=qty * price))
        gerai.append_movement(lots[lot_id], KIND_RESERVE, -qty, cashier, reason=payment.number)
    gerai.assert_stock_not_negative(lots, wanted)
    record_event(cashier, "qris.start", payment, f"{payment.number} total={total}", number=payment.number,
                 total=total)
    db.session.refresh(payment)
    return payment


# --- confirming -----------------------------------------------------------------------------------

def _move(payment: CounterPayment, action: str, **values) -> bool:
    """Take `action` as a compare-and-set; True only for the request whose UPDATE moved the payment."""
    before, to_status = TRANSITIONS[action]
    moved = db.session.execute(update(CounterPayment)
                               .where(CounterPayment.id == payment.id, CounterPayment.status.in_(before))
                               .values(status=to_status, **({"closed_at": utcnow()} if PENDING in before else {}), **values)
                               .execution_options(synchronize_session=False)).rowcount
    db.session.refresh(payment)
    return bool(moved)


def _payment_lines(payment: CounterPayment) -> list[CounterPaymentLine]:
    lines = list(db.session.scalars(select(CounterPaymentLine).where(CounterPaymentLine.payment_id == payment.id)
                                    .options(selectinload(CounterPaymentLine.lot)
                                             .selectinload(ConsignmentLot.product))
                                    .order_by(CounterPaymentLine.id)))
    gerai.lock_lots([line.lot_id for line in lines] or [0])
    return lines


def _sell(payment: CounterPayment) -> None:
    """Side effect of `pay` (its winner only): the hold becomes the sale, and the lines leave the cart."""
    cashier = payment.cashier
    lines = _payment_lines(payment)
    sale = gerai.new_sale(cashier, channel="counter", payment_method="qris", total=payment.total,
                          payment_reference=payment.transaction_id or payment.number)
    for line in lines:
        gerai.append_movement(line.lot, KIND_RELEASE, line.quantity, cashier, reason=payment.number)
        gerai.sell_from_lot(sale, line.lot, line.quantity, cashier, unit_price=line.unit_price)
        in_cart = PosCartLine.cashier_id == cashier.id, PosCartLine.lot_id == line.lot_id
        db.session.execute(delete(PosCartLine).where(*in_cart, PosCartLine.quantity <= line.quantity))
        db.session.execute(update(PosCartLine).where(*in_cart).values(quantity=PosCartLine.quantity - line.quantity)
                           .execution_options(synchronize_session=False))
    db.session.execute(update(CounterPayment).where(CounterPayment.id == payment.id).values(sale_id=sale.id)
                       .execution_options(synchronize_session=False))
    record_event(cashier, "sale.record", sale, f"{sale.number} qris total={sale.total} ref={sale.payment_reference}",
                 items=[(line.quantity, line.lot.product.name, line.lot.code) for line in lines], total=sale.total)


def _release(payment: CounterPayment, actor: User) -> None:
    """Side effect of expire/cancel/fail (its winner only): the held units go back on the shelf."""
    for line in _payment_lines(payment):
        gerai.append_movement(line.lot, KIND_RELEASE, line.quantity, actor, reason=f"{payment.number}: {payment.status}")
    record_event(actor, CLOSED_AUDIT[payment.status], payment, f"{payment.number} {payment.close_reason}",
                 number=payment.number, total=payment.total)


def _end(payment_id: int, action: str, reason: str, actor: User | None = None) -> CounterPayment:
    """End a pending payment without a sale (expire, cancel, fail) and release its hold; once."""
    with transaction():
        payment = get_payment(payment_id)
        if _move(payment, action, close_reason=reason[:200]):
            _release(payment, actor or system_user())
    return payment


def apply_gateway_status(payment_id: int, status: dict, actor: User | None = None) -> CounterPayment:
    """Apply a status read from Midtrans' status API. Safe any number of times, in any order, at once."""
    payment = get_payment(payment_id)
    outcome = midtrans.classify(status)
    transaction_status = str(status.get("transaction_status", ""))
    if outcome == midtrans.SUCCESS:
        if not midtrans.amount_matches(status, payment.total):
            log.error("Midtrans amount %r differs from counter payment %s total %s", status.get("gross_amount"),
                      payment.number, payment.total)
            return payment
        with transaction():
            reference = str(status.get("transaction_id") or payment.transaction_id)[:100]
            if _move(payment, PAY, transaction_id=reference, close_reason=transaction_status):
                _sell(payment)
            elif _move(payment, FLAG_REFUND, transaction_id=reference):
                # Paid after it ended: its goods went back on the shelf, so nothing is sold; the shopper's
                # money is owed back, and the POS lists the payment until a pengurus refunds it.
                log.error("counter payment %s was paid after it ended: refund the shopper", payment.number)
                record_event(actor or system_user(), "qris.refund_needed", payment, f"{payment.number} {reference}",
                             number=payment.number, total=payment.total)
        return payment
    if outcome == midtrans.FAILED:
        return _end(payment.id, ENDINGS.get(transaction_status, FAIL), f"midtrans:{transaction_status}", actor)
    return payment


def check_payment(payment_id: int, actor: User | None = None) -> CounterPayment:
    """Ask Midtrans about a pending payment and apply what it says (the kasir's page polls this). Once the
    QR's time has run out, Midtrans is asked to cancel it and the answer decides: paid after all, or
    ended. Raises midtrans.GatewayError when Midtrans cannot answer; nothing is changed then."""
    payment = get_payment(payment_id)
    gw = midtrans.gateway()
    if gw is None or not payment.is_pending:
        return payment
    status = gw.status(payment.number)
    if status is not None:
        payment = apply_gateway_status(payment.id, status, actor)
    if payment.is_pending and utcnow() > payment.expires_at + EXPIRY_GRACE:
        payment = _close_at_midtrans(gw, payment, EXPIRE, "not paid in time", actor)
    return payment


def refunds_owed() -> list[CounterPayment]:
    """QRIS payments that arrived after their QR ended: the shopper's money is owed back (oldest first)."""
    return list(db.session.scalars(select(CounterPayment).where(CounterPayment.status == REFUND_NEEDED)
                                   .order_by(CounterPayment.id)))


def record_refund(actor: User, payment_id: int, note: str, once_key: str | None = None) -> CounterPayment:
    """A pengurus records how a late QRIS payment went back to the shopper (e.g. the transfer reference).
    Once: the same form sent twice, or at once, records one refund."""
    note = (note or "").strip()
    if len(note) < 3:
        raise DomainError(_("Write how the money went back to the shopper, e.g. the transfer reference."),
                          field="note")
    with transaction():
        if once.claim(once_key, "qris.refund", actor) is not None:
            return get_payment(payment_id)
        payment = get_payment(payment_id)
        if not _move(payment, REFUND, refund_note=note[:200]):
            raise DomainError(_("This QRIS payment does not wait for a refund."))
        record_event(actor, "qris.refunded", payment, f"{payment.number} {note[:200]}",
                     number=payment.number, total=payment.total, note=note[:200])
        once.remember(once_key, payment.id)
    return payment


def cancel_payment(actor: User, payment_id: int) -> CounterPayment:
    """The kasir cancels a shown QR: Midtrans cancels it first, then the hold is released. A QR the shopper
    paid meanwhile is recorded as paid instead."""
    payment = get_payment(payment_id)
    gw = midtrans.gateway()
    if not payment.is_pending:
        return payment
    if gw is None:
        return _end(payment.id, CANCEL, "cancelled by the kasir", actor)
    return _close_at_midtrans(gw, payment, CANCEL, "cancelled by the kasir", actor)


def _close_at_midtrans(gw, payment: CounterPayment, action: str, reason: str, actor: User | None) -> CounterPayment:
    try:
        gw.cancel(payment.number)
    except midtrans.GatewayError as exc:  # e.g. already expired there, or never charged: the status decides
        log.info("Midtrans did not cancel %s: %s", payment.number, exc.message)
    status = gw.status(payment.number)  # None: Midtrans never had it (the charge did not get through)
    outcome = midtrans.classify(status) if status is not None else None
    if outcome == midtrans.SUCCESS:  # the shopper paid just before: that wins
        return apply_gateway_status(payment.id, status, actor)
    if outcome in (midtrans.PENDING, midtrans.CHALLENGE):
        raise midtrans.GatewayError(_("The payment service has not cancelled this QR yet; try again in a moment."))
    return _end(payment.id, action, reason, actor)


def handle_notification(payload: dict) -> CounterPayment | None:
    """A Midtrans notification about a counter payment. Raises PermissionError for a forged signature."""
    gw = midtrans.gateway()
    if gw is None or not gw.signature_ok(payload):
        raise PermissionError("bad signature")
    payment = db.session.scalar(select(CounterPayment).where(CounterPayment.number == str(payload.get("order_id"))))
    if payment is None:
        return None
    status = gw.status(payment.number)  # the notification body is only a hint
    return apply_gateway_status(payment.id, status) if status is not None else payment


def expire_stale_payments() -> int:
    """Check every payment past its QR's time with Midtrans and end it (cron, with `expire-orders`), so a
    page the kasir closed never keeps goods held. Returns how many ended."""
    stale = db.session.scalars(select(CounterPayment.id).where(CounterPayment.status == PENDING,
                                                               CounterPayment.expires_at < utcnow() - EXPIRY_GRACE)
                               .order_by(CounterPayment.id)).all()
    ended = 0
    for payment_id in stale:
        try:
            ended += not check_payment(payment_id).is_pending
        except DomainError as exc:
            db.session.rollback()
            log.warning("could not expire counter payment %s: %s", payment_id, exc.message)
    return ended


# --- the QR -----------------------------------------------------------------------------------------

def qr_code(payment: CounterPayment) -> segno.QRCode:
    """The QR of the payment's `qr_string`, exactly as Midtrans gave it."""
    return segno.make_qr(payment.qr_string, error="m")


def qr_svg(payment: CounterPayment) -> Markup:
    """The QR as inline SVG without a fixed size (the page's CSS makes it as wide as the screen allows)."""
    return Markup(qr_code(payment).svg_inline(border=4, dark="#000", light="#fff", omitsize=True,
                                              svgclass="qris-svg", lineclass=None,
                                              title=_("QRIS code for %(total)s", total=format_rupiah(payment.total))))
