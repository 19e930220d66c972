"""Settlement models. A payout is an immutable statement over exact sale lines; paying it is a new row.

- payout_lines.sale_line_id is UNIQUE: a sale line belongs to at most one payout, ever.
- payout_adjustments.source is UNIQUE: a late void (or a carried negative balance) is settled once.
- payout_payments.payout_id is UNIQUE: a statement is paid once.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consignment.models import SaleLine
from marketplace.extensions import db
from marketplace.models import Member, User
from marketplace.timeutil import utcnow

STATUS_DRAFT = "draft"
STATUS_CLOSED = "closed"
PAYOUT_METHODS = ("cash", "bank_transfer", "ewallet")


class SettlementPeriod(db.Model):
    __tablename__ = "settlement_periods"
    __table_args__ = (CheckConstraint("status IN ('draft','closed')", name="status_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cutoff_date: Mapped[date]  # inclusive, the cooperative's local calendar day
    status: Mapped[str] = mapped_column(String(10), default=STATUS_DRAFT)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[Optional[datetime]]

    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    closed_by: Mapped[Optional[User]] = relationship(foreign_keys=[closed_by_id])
    payouts: Mapped[list["Payout"]] = relationship(back_populates="period", order_by="Payout.id")

    @property
    def is_closed(self) -> bool:
        return self.status == STATUS_CLOSED


class Payout(db.Model):
    """A member's statement for a period, frozen at close."""

    __tablename__ = "payouts"
    __table_args__ = (
        UniqueConstraint("period_id", "member_id", name="uq_payouts_period_member"),
        CheckConstraint("gross >= 0 AND commission >= 0 AND fees >= 0", name="parts_not_negative"),
        CheckConstraint("payable >= 0 AND carried_forward <= 0", name="payable_not_negative"),
        CheckConstraint("payable + carried_forward = gross - commission - fees + adjustments", name="reconciles"),
        Index("ix_payouts_member", "member_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("settlement_periods.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    gross: Mapped[int]
    commission: Mapped[int]
    line_count: Mapped[int] = mapped_column(default=0)  # its sale lines (drafts subtract settled lines by it)
    fees: Mapped[int]
    adjustments: Mapped[int]  # signed: late voids (negative), a balance carried from earlier
    payable: Mapped[int]
    carried_forward: Mapped[int] = mapped_column(default=0)  # negative balance moved to the next statement
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    period: Mapped[SettlementPeriod] = relationship(back_populates="payouts")
    member: Mapped[Member] = relationship()
    lines: Mapped[list["PayoutLine"]] = relationship(back_populates="payout", order_by="PayoutLine.sale_line_id")
    adjustment_rows: Mapped[list["PayoutAdjustment"]] = relationship(back_populates="payout",
                                                                     order_by="PayoutAdjustment.id")
    payment: Mapped[Optional["PayoutPayment"]] = relationship(back_populates="payout", uselist=False)

    @property
    def is_paid(self) -> bool:
        return self.payment is not None


class PayoutLine(db.Model):
    __tablename__ = "payout_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    payout_id: Mapped[int] = mapped_column(ForeignKey("payouts.id"), index=True)
    sale_line_id: Mapped[int] = mapped_column(ForeignKey("sale_lines.id"), unique=True)
    gross: Mapped[int]
    commission: Mapped[int]

    payout: Mapped[Payout] = relationship(back_populates="lines")
    sale_line: Mapped[SaleLine] = relationship()


class PayoutAdjustment(db.Model):
    """A signed correction carried into a statement: e.g. a sale voided after it was paid out."""

    __tablename__ = "payout_adjustments"

    id: Mapped[int] = mapped_column(primary_key=True)
    payout_id: Mapped[int] = mapped_column(ForeignKey("payouts.id"), index=True)
    source: Mapped[str] = mapped_column(String(40), unique=True)  # "void:<sale_line_id>", "carry:<payout_id>"
    amount: Mapped[int]  # effect on the member's payable, signed
    description: Mapped[str] = mapped_column(Text, default="")

    payout: Mapped[Payout] = relationship(back_populates="adjustment_rows")


class PayoutPayment(db.Model):
    __tablename__ = "payout_payments"
    __table_args__ = (CheckConstraint("method IN ('cash','bank_transfer','ewallet')", name="method_known"),
                      Index("ix_payout_payments_paid_at", "paid_at"))  # /transparansi: the year's payments

    id: Mapped[int] = mapped_column(primary_key=True)
    payout_id: Mapped[int] = mapped_column(ForeignKey("payouts.id"), unique=True)
    method: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str] = mapped_column(String(120), default="")
    acknowledged_by: Mapped[str] = mapped_column(String(200), default="")  # cash: who received it
    paid_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    paid_at: Mapped[datetime] = mapped_column(default=utcnow)

    payout: Mapped[Payout] = relationship(back_populates="payment")
    paid_by: Mapped[User] = relationship()
