"""Online orders, their lines (units reserved from lots), their history, and payment events seen from Midtrans."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.models import Product
from consignment.models import ConsignmentLot, Sale
from marketplace.extensions import db
from marketplace.models import User
from marketplace.timeutil import utcnow

from . import states


def _one_of(column: str, values) -> str:
    return f"{column} IN (" + ",".join(f"'{value}'" for value in values) + ")"


class Order(db.Model):
    """An online order. `status` moves only through `states.TRANSITIONS`; every change is an OrderEvent row."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(_one_of("status", states.STATUSES), name="status_known"),
        CheckConstraint(_one_of("payment_method", states.PAYMENT_METHODS), name="method_known"),
        CheckConstraint("fulfilment IN ('pickup','delivery')", name="fulfilment_known"),
        CheckConstraint("total > 0", name="total_positive"),
        Index("ix_orders_status_expires", "status", "expires_at"),
        Index("ix_orders_phone_status", "customer_phone", "status"),
        Index("ix_orders_method_status", "payment_method", "status", "id"),
        Index("ix_orders_status_id", "status", "id"),
        Index("ix_orders_client_ip_created", "client_ip", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # the Midtrans order_id
    token: Mapped[str] = mapped_column(String(64), unique=True)  # unguessable link for the shopper
    customer_name: Mapped[str] = mapped_column(String(200))
    customer_phone: Mapped[str] = mapped_column(String(32))
    fulfilment: Mapped[str] = mapped_column(String(10), default="pickup")
    address: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    payment_method: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(16), default=states.PENDING)
    total: Mapped[int]  # integer Rupiah
    snap_token: Mapped[str] = mapped_column(String(100), default="")
    snap_redirect_url: Mapped[str] = mapped_column(String(500), default="")
    sale_id: Mapped[Optional[int]] = mapped_column(ForeignKey("sales.id"))
    # The address the checkout came from (the checkout rate limit counts orders per address).
    client_ip: Mapped[str] = mapped_column(String(64), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    paid_at: Mapped[Optional[datetime]]

    lines: Mapped[list["OrderLine"]] = relationship(back_populates="order", order_by="OrderLine.id")
    events: Mapped[list["OrderEvent"]] = relationship(back_populates="order", order_by="OrderEvent.id")
    sale: Mapped[Optional[Sale]] = relationship()

    def can(self, action: str) -> bool:
        """Whether `action` (states.MARK_READY, "cancel", …) is allowed from the current status."""
        return states.can(self.payment_method, self.status, action)

    @property
    def is_open(self) -> bool:
        return self.status in states.OPEN_STATUSES

    @property
    def is_ready(self) -> bool:
        return self.status == states.READY

    @property
    def is_online(self) -> bool:
        return self.payment_method == states.PAY_ONLINE

    @property
    def status_label(self) -> str:
        return str(states.STATUS_LABELS[self.status])


class OrderLine(db.Model):
    """Units of a product reserved from one lot (a product split across lots has several lines)."""

    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("line_total = quantity * unit_price", name="total_matches"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("consignment_lots.id"), index=True)
    quantity: Mapped[int]
    unit_price: Mapped[int]
    line_total: Mapped[int]

    order: Mapped[Order] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()
    lot: Mapped[ConsignmentLot] = relationship()


class OrderEvent(db.Model):
    """The order's history: every status change, with who or what caused it."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    order: Mapped[Order] = relationship(back_populates="events")
    actor: Mapped[Optional[User]] = relationship()

    @property
    def from_label(self) -> str:
        return str(states.STATUS_LABELS[self.from_status]) if self.from_status in states.STATUS_LABELS else "—"

    @property
    def to_label(self) -> str:
        return str(states.STATUS_LABELS.get(self.to_status, self.to_status))

    @property
    def reason_label(self) -> str:
        return states.reason_label(self.reason, placed=not self.from_status)


class PaymentEvent(db.Model):
    """A payment status seen from Midtrans. The unique key makes repeated notifications harmless."""

    __tablename__ = "payment_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    transaction_id: Mapped[str] = mapped_column(String(100), default="")
    transaction_status: Mapped[str] = mapped_column(String(30))
    fraud_status: Mapped[str] = mapped_column(String(30), default="")
    gross_amount: Mapped[str] = mapped_column(String(30), default="")
    raw: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
