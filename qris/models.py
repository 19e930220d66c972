"""A QRIS charge at the counter: what it charges (a snapshot of the kasir's cart with prices), what
Midtrans answered (transaction id, the QR's content, its expiry), and how it ended.

Status machine (moved only by `services._move`, a compare-and-set UPDATE … WHERE status = 'pending'):

    pending --pay-->    paid       (Midtrans confirmed settlement / capture+accept of exactly the total)
    pending --expire--> expired    (Midtrans says expire, or the QR's time ran out and Midtrans agrees)
    pending --cancel--> cancelled  (the kasir cancelled it, or Midtrans says cancel)
    pending --fail-->   failed     (deny/failure, or the charge itself could not be made)
    expired/cancelled/failed --flag_refund--> refund_needed
                                   (Midtrans says it was paid after all, but the goods were already back on
                                   the shelf and the cart may have moved on: the shopper's money is owed back)
    refund_needed --refund--> refunded  (a pengurus records how the money went back: `refund_note`)

While pending, the payment's lines hold their units in the stock ledger (`reserve` movements); every
move away from pending either turns the hold into the sale (paid) or releases it (the others).
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from marketplace.i18n import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consignment.models import ConsignmentLot, Sale
from marketplace.extensions import db
from marketplace.models import User
from marketplace.timeutil import utcnow

NUMBER_PREFIX = "QR"  # Midtrans order ids of counter payments; online orders start with "PK"

PENDING, PAID, EXPIRED, CANCELLED, FAILED = "pending", "paid", "expired", "cancelled", "failed"
REFUND_NEEDED, REFUNDED = "refund_needed", "refunded"
STATUSES = (PENDING, PAID, EXPIRED, CANCELLED, FAILED, REFUND_NEEDED, REFUNDED)
PAY, EXPIRE, CANCEL, FAIL, FLAG_REFUND, REFUND = "pay", "expire", "cancel", "fail", "flag_refund", "refund"
# action -> (statuses it may start from, status it leads to)
TRANSITIONS = {PAY: ((PENDING,), PAID), EXPIRE: ((PENDING,), EXPIRED), CANCEL: ((PENDING,), CANCELLED),
               FAIL: ((PENDING,), FAILED), FLAG_REFUND: ((EXPIRED, CANCELLED, FAILED), REFUND_NEEDED),
               REFUND: ((REFUND_NEEDED,), REFUNDED)}

STATUS_LABELS = {PENDING: _l("Waiting for the shopper to scan"), PAID: _l("Paid"), EXPIRED: _l("Expired"),
                 CANCELLED: _l("Cancelled"), FAILED: _l("Failed"),
                 REFUND_NEEDED: _l("Paid after the QR ended: refund the shopper"),
                 REFUNDED: _l("Refunded to the shopper")}


class CounterPayment(db.Model):
    """A dynamic QRIS charge for a kasir's cart. `number` is the Midtrans order_id."""

    __tablename__ = "counter_payments"
    __table_args__ = (
        CheckConstraint("status IN (" + ",".join(f"'{s}'" for s in STATUSES) + ")", name="status_known"),
        CheckConstraint("total > 0", name="total_positive"),
        Index("ix_counter_payments_status_expires", "status", "expires_at"),
        Index("ix_counter_payments_cashier_status", "cashier_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(50), unique=True)  # the Midtrans order_id
    cashier_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    total: Mapped[int]  # integer Rupiah, exactly what Midtrans is asked to charge
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    transaction_id: Mapped[str] = mapped_column(String(100), default="")  # Midtrans' reference
    qr_string: Mapped[str] = mapped_column(Text, default="")
    qr_url: Mapped[str] = mapped_column(String(500), default="")  # Midtrans' generate-qr-code action
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[Optional[datetime]]
    close_reason: Mapped[str] = mapped_column(String(200), default="")
    sale_id: Mapped[Optional[int]] = mapped_column(ForeignKey("sales.id"))
    refund_note: Mapped[str] = mapped_column(String(200), default="")  # how a late payment went back

    lines: Mapped[list["CounterPaymentLine"]] = relationship(back_populates="payment",
                                                             order_by="CounterPaymentLine.id")
    cashier: Mapped[User] = relationship()
    sale: Mapped[Optional[Sale]] = relationship()

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])

    @property
    def is_pending(self) -> bool:
        return self.status == PENDING


class CounterPaymentLine(db.Model):
    """Units of one lot in the charged cart, with the price they were charged at."""

    __tablename__ = "counter_payment_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("line_total = quantity * unit_price", name="total_matches"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("counter_payments.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("consignment_lots.id"), index=True)
    quantity: Mapped[int]
    unit_price: Mapped[int]
    line_total: Mapped[int]

    payment: Mapped[CounterPayment] = relationship(back_populates="lines")
    lot: Mapped[ConsignmentLot] = relationship()
