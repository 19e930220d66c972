"""Consignment models. Stock and money are ledgers: rows here are appended, never edited.

On-hand stock of a lot is SUM(stock_movements.quantity); a sale is corrected by a SaleVoid and
reversing movements; a return or an adjustment is a new movement with its reason.

`ConsignmentLot.on_hand` is that sum kept ready for reading: `consignment.services.append_movement` (the only
place movements are written) adds each movement's quantity to it with one atomic UPDATE in the same
transaction, under the lot's lock. The ledger stays the source of truth: `flask check-ledger` proves
on_hand = SUM(movements) for every lot.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from marketplace.i18n import gettext as _
from marketplace.i18n import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.models import Category, Product
from marketplace.extensions import db
from marketplace.models import Member, User
from marketplace.timeutil import utcnow

KIND_INTAKE = "intake"
KIND_SALE = "sale"
KIND_ONLINE_SALE = "online_sale"
KIND_RETURN = "return_to_member"
KIND_ADJUSTMENT = "adjustment"
KIND_VOID = "void"  # reverses the movement of a voided sale line
KIND_RESERVE = "reserve"  # an online order holds units until it is paid, cancelled or expires
KIND_RELEASE = "release"  # gives reserved units back (before the online_sale, or on expiry)
MOVEMENT_KINDS = (KIND_INTAKE, KIND_SALE, KIND_ONLINE_SALE, KIND_RETURN, KIND_ADJUSTMENT, KIND_VOID, KIND_RESERVE,
                  KIND_RELEASE)

MOVEMENT_KIND_LABELS = {
    KIND_INTAKE: _l("Intake"), KIND_SALE: _l("Sale"), KIND_ONLINE_SALE: _l("Online sale"),
    KIND_RETURN: _l("Return to member"), KIND_ADJUSTMENT: _l("Adjustment"), KIND_VOID: _l("Void"),
    KIND_RESERVE: _l("Held for an online order"), KIND_RELEASE: _l("Released from an online order"),
}

PAYMENT_METHODS = ("cash", "qris", "transfer")
ADJUSTMENT_REASONS = ("damaged", "lost", "expired", "count_correction")
ADJUSTMENT_REASON_LABELS = {"damaged": _l("Damaged"), "lost": _l("Lost"), "expired": _l("Expired"),
                            "count_correction": _l("Count correction")}


class ConsignmentAgreement(db.Model):
    """A member's commission rule, optionally for one category, valid over a date range."""

    __tablename__ = "consignment_agreements"
    __table_args__ = (
        CheckConstraint("commission_bp >= 0 AND commission_bp <= 10000", name="commission_range"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="valid_range"),
        Index("ix_consignment_agreements_member_valid", "member_id", "valid_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    category_id: Mapped[Optional[int]] = mapped_column(ForeignKey("categories.id"))
    commission_bp: Mapped[int]  # basis points: 1500 = 15 %
    valid_from: Mapped[date]
    valid_to: Mapped[Optional[date]]
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    member: Mapped[Member] = relationship()
    category: Mapped[Optional[Category]] = relationship()


class ConsignmentLot(db.Model):
    """One intake of goods from a member: quantity, price and the commission rate in force then."""

    __tablename__ = "consignment_lots"
    __table_args__ = (
        CheckConstraint("quantity_received > 0", name="quantity_positive"),
        CheckConstraint("unit_price > 0", name="price_positive"),
        CheckConstraint("commission_bp >= 0 AND commission_bp <= 10000", name="commission_range"),
        Index("ix_consignment_lots_member_received", "member_id", "received_at"),
        Index("ix_consignment_lots_received", "received_at", "id"),
        # Covering for the stock report (a page of members' lots with stock, summed by product and price).
        Index("ix_consignment_lots_member_on_hand", "member_id", "on_hand", "product_id", "unit_price"),
        # The few lots below zero (an offline sale sold more than the ledger had): orders to check at the counter.
        Index("ix_consignment_lots_below_zero", "on_hand", sqlite_where=text("on_hand < 0"),
              postgresql_where=text("on_hand < 0")),
        # A product's lots, and their stock summed from the index alone (every product tile shows it).
        Index("ix_consignment_lots_product_on_hand", "product_id", "on_hand"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity_received: Mapped[int]
    unit_price: Mapped[int]  # integer Rupiah, the consignment selling price of this lot
    commission_bp: Mapped[int]  # snapshot of the agreement in force at intake
    agreement_id: Mapped[Optional[int]] = mapped_column(ForeignKey("consignment_agreements.id"))
    expiry_date: Mapped[Optional[date]]
    note: Mapped[str] = mapped_column(Text, default="")
    received_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    # = SUM(stock_movements.quantity) of this lot, maintained by append_movement (see the module doc)
    on_hand: Mapped[int] = mapped_column(default=0, server_default="0")

    member: Mapped[Member] = relationship()
    product: Mapped[Product] = relationship()
    received_by: Mapped[User] = relationship()


class StockMovement(db.Model):
    """Append-only ledger of stock: quantity is signed (+ in, − out)."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        CheckConstraint("quantity <> 0", name="quantity_nonzero"),
        CheckConstraint("kind IN ('intake','sale','online_sale','return_to_member','adjustment','void','reserve',"
                        "'release')", name="kind_known"),
        Index("ix_stock_movements_lot", "lot_id", "id"),
        Index("ix_stock_movements_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("consignment_lots.id"))
    kind: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int]
    reason: Mapped[str] = mapped_column(Text, default="")
    sale_line_id: Mapped[Optional[int]] = mapped_column(ForeignKey("sale_lines.id"), index=True)
    return_slip_id: Mapped[Optional[int]] = mapped_column(ForeignKey("return_slips.id"), index=True)
    order_line_id: Mapped[Optional[int]] = mapped_column(ForeignKey("order_lines.id"), index=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    lot: Mapped[ConsignmentLot] = relationship()
    actor: Mapped[User] = relationship()

    @property
    def kind_label(self) -> str:
        return str(MOVEMENT_KIND_LABELS.get(self.kind, self.kind))

    @property
    def reason_label(self) -> str:
        """The reason in the reader's language. Stored: codes and numbers ("damaged: sobek", "void PJ…: …",
        "PK…: expired"); the words after a code are what a person typed and are shown as typed."""
        reason = self.reason or ""
        code, sep, rest = reason.partition(": ")
        if self.kind == KIND_INTAKE and reason in (KIND_INTAKE, "penerimaan"):
            return ""  # the kind says it; rows written before codes hold the translated word
        if self.kind == KIND_ADJUSTMENT and code in ADJUSTMENT_REASON_LABELS:
            return f"{ADJUSTMENT_REASON_LABELS[code]}: {rest}" if sep else str(ADJUSTMENT_REASON_LABELS[code])
        if self.kind == KIND_VOID and code.startswith("void "):
            return _("voids %(sale)s: %(reason)s", sale=code.removeprefix("void "), reason=rest)
        if self.kind in (KIND_RESERVE, KIND_RELEASE) and reason.startswith("QR"):  # a QRIS charge at the counter
            from qris.models import STATUS_LABELS as QRIS_STATUS_LABELS

            text = _("held while QRIS %(number)s is paid", number=code) if self.kind == KIND_RESERVE \
                else _("QRIS %(number)s", number=code)
            return f"{text}: {QRIS_STATUS_LABELS[rest]}" if rest in QRIS_STATUS_LABELS else text
        if self.kind == KIND_RESERVE and reason.endswith(" (late)"):
            return _("%(order)s, paid late", order=reason.removesuffix(" (late)"))
        if self.kind == KIND_RELEASE and sep:
            from orders.states import STATUS_LABELS

            if rest in STATUS_LABELS:
                return f"{code}: {STATUS_LABELS[rest]}"
        return reason


class Sale(db.Model):
    """A counter sale (or, later, a paid online order). Totals are integer Rupiah."""

    __tablename__ = "sales"
    __table_args__ = (
        CheckConstraint("total >= 0", name="total_not_negative"),
        CheckConstraint("payment_method IN ('cash','qris','transfer','midtrans','gerai')", name="method_known"),
        CheckConstraint("cash_received IS NULL OR cash_received >= total", name="cash_covers_total"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    channel: Mapped[str] = mapped_column(String(10), default="counter")
    payment_method: Mapped[str] = mapped_column(String(12))
    total: Mapped[int]
    cash_received: Mapped[Optional[int]]
    payment_reference: Mapped[str] = mapped_column(String(100), default="")
    cashier_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    cashier: Mapped[User] = relationship()
    lines: Mapped[list["SaleLine"]] = relationship(back_populates="sale", order_by="SaleLine.id")
    void: Mapped[Optional["SaleVoid"]] = relationship(back_populates="sale", uselist=False)

    @property
    def change(self) -> int:
        return (self.cash_received - self.total) if self.cash_received is not None else 0

    @property
    def is_void(self) -> bool:
        return self.void is not None


class SaleLine(db.Model):
    """What was sold from which lot, with the price and commission snapshotted."""

    __tablename__ = "sale_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0", name="price_not_negative"),
        CheckConstraint("line_total = quantity * unit_price", name="total_matches"),
        CheckConstraint("commission >= 0 AND commission <= line_total", name="commission_range"),
        Index("ix_sale_lines_member_sale", "member_id", "sale_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sale_id: Mapped[int] = mapped_column(ForeignKey("sales.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("consignment_lots.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    quantity: Mapped[int]
    unit_price: Mapped[int]
    line_total: Mapped[int]
    commission_bp: Mapped[int]
    commission: Mapped[int]  # integer Rupiah kept by the cooperative

    sale: Mapped[Sale] = relationship(back_populates="lines")
    lot: Mapped[ConsignmentLot] = relationship()
    product: Mapped[Product] = relationship()
    member: Mapped[Member] = relationship()

    @property
    def member_share(self) -> int:
        return self.line_total - self.commission


class SaleVoid(db.Model):
    """A voided sale: who, when, why. One per sale (the unique key stops a double void)."""

    __tablename__ = "sale_voids"

    id: Mapped[int] = mapped_column(primary_key=True)
    sale_id: Mapped[int] = mapped_column(ForeignKey("sales.id"), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    sale: Mapped[Sale] = relationship(back_populates="void")
    actor: Mapped[User] = relationship()


class ReturnSlip(db.Model):
    """Unsold goods handed back to a member (one slip, one or more lots)."""

    __tablename__ = "return_slips"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    member: Mapped[Member] = relationship()
    actor: Mapped[User] = relationship()
    movements: Mapped[list[StockMovement]] = relationship(order_by="StockMovement.id")


class PosCartLine(db.Model):
    """A line of a kasir's cart at the counter. Kept on the server (not in the session cookie) so a
    cart that was sold cannot come back from an old cookie; the sale deletes it in its transaction."""

    __tablename__ = "pos_cart_lines"
    __table_args__ = (
        UniqueConstraint("cashier_id", "lot_id", name="uq_pos_cart_lines_cashier_lot"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cashier_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("consignment_lots.id"), index=True)
    quantity: Mapped[int]
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class StockDiscrepancy(db.Model):
    """A lot sold below zero by a sale made offline (the goods left the shop while the ledger had already
    let the units go, e.g. online). Pengurus resolves it with a count correction; until then the lot shows
    it and the dashboard lists it. Appended once per (sale, lot); resolving fills the resolution columns."""

    __tablename__ = "stock_discrepancies"
    __table_args__ = (
        UniqueConstraint("sale_id", "lot_id", name="uq_stock_discrepancies_sale_lot"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("ix_stock_discrepancies_open", "resolved_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("consignment_lots.id"), index=True)
    sale_id: Mapped[int] = mapped_column(ForeignKey("sales.id"))
    quantity: Mapped[int]  # units the sale took beyond what the ledger had
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[Optional[datetime]]
    resolved_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    resolution_movement_id: Mapped[Optional[int]] = mapped_column(ForeignKey("stock_movements.id"))
    resolution_note: Mapped[str] = mapped_column(Text, default="")

    lot: Mapped[ConsignmentLot] = relationship()
    sale: Mapped[Sale] = relationship()
    resolved_by: Mapped[Optional[User]] = relationship()

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None
