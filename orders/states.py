"""The order's state machine: status names, and ONE table of allowed transitions per payment method.

A transition is taken with a compare-and-set (`UPDATE orders SET status = :to WHERE id = :id AND
status IN (:from…)`, see `services._move`); only the request whose UPDATE changed the row goes on to
the transition's side effect (reserve, sale, release, void). Pages ask `order.can("ready")`, never
repeat these rules.

    midtrans:  pending --pay--> paid --ready--> ready --deliver--> completed
               pending --cancel/expire--> cancelled/expired --pay_late--> paid
                                                           --flag_refund--> refund_needed
               paid/ready/completed/refund_needed --refund--> refunded
    gerai:     pending --ready (the gerai confirms)--> ready --complete (paid at the counter)--> completed
               pending/ready --cancel/expire--> cancelled/expired
"""
from __future__ import annotations

from marketplace.i18n import lazy_gettext as _l
from sqlalchemy import and_, or_

PAY_ONLINE = "midtrans"
PAY_AT_GERAI = "gerai"
PAYMENT_METHODS = (PAY_ONLINE, PAY_AT_GERAI)

PENDING = "pending"
PAID = "paid"
READY = "ready"
COMPLETED = "completed"
CANCELLED = "cancelled"
EXPIRED = "expired"
REFUNDED = "refunded"
REFUND_NEEDED = "refund_needed"
STATUSES = (PENDING, PAID, READY, COMPLETED, CANCELLED, EXPIRED, REFUNDED, REFUND_NEEDED)

# Actions
PAY, PAY_LATE, FLAG_REFUND, REFUND = "pay", "pay_late", "flag_refund", "refund"
MARK_READY, DELIVER, COMPLETE, CANCEL, EXPIRE = "ready", "deliver", "complete", "cancel", "expire"

# action -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, dict[str, tuple[tuple[str, ...], str]]] = {
    PAY_ONLINE: {
        PAY: ((PENDING,), PAID),
        CANCEL: ((PENDING,), CANCELLED),
        EXPIRE: ((PENDING,), EXPIRED),
        PAY_LATE: ((CANCELLED, EXPIRED), PAID),
        FLAG_REFUND: ((CANCELLED, EXPIRED), REFUND_NEEDED),
        MARK_READY: ((PAID,), READY),
        DELIVER: ((PAID, READY), COMPLETED),
        REFUND: ((PAID, READY, COMPLETED, REFUND_NEEDED), REFUNDED),
    },
    PAY_AT_GERAI: {
        MARK_READY: ((PENDING,), READY),
        COMPLETE: ((PENDING, READY), COMPLETED),
        CANCEL: ((PENDING, READY), CANCELLED),
        EXPIRE: ((PENDING, READY), EXPIRED),
    },
}

# Statuses in which an order still holds stock without having been paid.
UNPAID_HOLDING = {PAY_ONLINE: (PENDING,), PAY_AT_GERAI: (PENDING, READY)}
# Orders the gerai still has to act on.
OPEN_STATUSES = (PENDING, PAID, READY)

STATUS_LABELS = {
    PENDING: _l("Waiting for payment"), PAID: _l("Paid"), READY: _l("Ready"), COMPLETED: _l("Completed"),
    CANCELLED: _l("Cancelled"), EXPIRED: _l("Expired"), REFUNDED: _l("Refunded"),
    REFUND_NEEDED: _l("Paid late: the gerai will contact you"),
}


# Why a status changed. OrderEvent.reason stores a code ("placed:gerai", "paid_at_gerai:cash",
# "midtrans:settlement"); the page shows it in the reader's language. A cancellation stores the words the
# staff typed, and rows written before codes existed hold English text: both are shown as stored.
REASON_PLACED, REASON_PAID_AT_GERAI, REASON_MIDTRANS = "placed", "paid_at_gerai", "midtrans"
REASON_READY, REASON_HANDED_OVER, REASON_NOT_PAID = "ready", "handed_over", "not_paid_in_time"
REASON_PAID_LATE, REASON_LATE_NO_STOCK = "midtrans_late", "paid_late_no_stock"
REASON_LABELS = {
    REASON_READY: _l("ready for pickup or delivery"), "ready for pickup/delivery": _l("ready for pickup or delivery"),
    REASON_HANDED_OVER: _l("handed over to the shopper"), "handed over": _l("handed over to the shopper"),
    REASON_NOT_PAID: _l("not paid in time"), "not paid in time": _l("not paid in time"),
    REASON_PAID_LATE: _l("paid through Midtrans after the order had lapsed"),
    "midtrans (late)": _l("paid through Midtrans after the order had lapsed"),
    REASON_LATE_NO_STOCK: _l("paid after it had lapsed; the stock is no longer available"),
    "paid after expiry; stock no longer available": _l("paid after it had lapsed; the stock is no longer available"),
}


def reason(code: str, detail: str = "") -> str:
    """The stored form of a reason code with its detail: reason("paid_at_gerai", "cash") -> "paid_at_gerai:cash"."""
    return f"{code}:{detail}" if detail else code


def reason_label(stored: str, *, placed: bool = False) -> str:
    """A stored reason in the reader's language (`placed`: the event that created the order)."""
    from marketplace.i18n import gettext as _

    code, _sep, detail = (stored or "").partition(":")
    if placed and stored in PAYMENT_METHODS:  # rows written before codes: the payment method
        code, detail = REASON_PLACED, stored
    if code == REASON_PLACED:
        return _("ordered, to pay online") if detail == PAY_ONLINE else _("ordered, to pay at the gerai")
    if code == REASON_PAID_AT_GERAI:
        from consignment.forms import payment_method_labels

        return _("paid at the gerai (%(method)s)", method=payment_method_labels().get(detail, detail))
    if code == REASON_MIDTRANS or stored.startswith("midtrans "):
        detail = detail or stored.removeprefix("midtrans").strip()
        return _("Midtrans reports: %(status)s", status=detail) if detail else _("paid through Midtrans")
    label = REASON_LABELS.get(stored)
    return str(label) if label is not None else stored


def rule(payment_method: str, action: str) -> tuple[tuple[str, ...], str]:
    """(from statuses, to status) of `action` for orders paid by `payment_method`; ((), "") if not allowed."""
    return TRANSITIONS[payment_method].get(action, ((), ""))


def can(payment_method: str, status: str, action: str) -> bool:
    return status in rule(payment_method, action)[0]


def unpaid_holding_clause(order_cls):
    """SQL: the order holds stock and is not paid yet (per payment method)."""
    return or_(*(and_(order_cls.payment_method == method, order_cls.status.in_(statuses))
                 for method, statuses in UNPAID_HOLDING.items()))
