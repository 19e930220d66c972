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

from flask_babel import lazy_gettext as _l
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


def rule(payment_method: str, action: str) -> tuple[tuple[str, ...], str]:
    """(from statuses, to status) of `action` for orders paid by `payment_method`; ((), "") if not allowed."""
    return TRANSITIONS[payment_method].get(action, ((), ""))


def can(payment_method: str, status: str, action: str) -> bool:
    return status in rule(payment_method, action)[0]


def unpaid_holding_clause(order_cls):
    """SQL: the order holds stock and is not paid yet (per payment method)."""
    return or_(*(and_(order_cls.payment_method == method, order_cls.status.in_(statuses))
                 for method, statuses in UNPAID_HOLDING.items()))
