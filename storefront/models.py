"""Storefront models: online orders (with their payment events) and the microsite's content."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.models import Product
from consignment.models import ConsignmentLot, Sale
from marketplace.extensions import db
from marketplace.models import User
from marketplace.photos import PHOTO_REFERENCE
from marketplace.timeutil import utcnow

ORDER_STATUSES = ("pending", "paid", "ready", "completed", "cancelled", "expired", "refunded", "refund_needed")
OPEN_STATUSES = ("pending", "paid", "ready")
PAY_ONLINE = "midtrans"
PAY_AT_GERAI = "gerai"


class Order(db.Model):
    """An online order. `status` is the current state; every change is also an OrderEvent row."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("status IN ('pending','paid','ready','completed','cancelled','expired','refunded',"
                        "'refund_needed')", name="status_known"),
        CheckConstraint("payment_method IN ('midtrans','gerai')", name="method_known"),
        CheckConstraint("fulfilment IN ('pickup','delivery')", name="fulfilment_known"),
        CheckConstraint("total > 0", name="total_positive"),
        Index("ix_orders_status_expires", "status", "expires_at"),
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
    status: Mapped[str] = mapped_column(String(16), default="pending")
    total: Mapped[int]  # integer Rupiah
    snap_token: Mapped[str] = mapped_column(String(100), default="")
    snap_redirect_url: Mapped[str] = mapped_column(String(500), default="")
    sale_id: Mapped[Optional[int]] = mapped_column(ForeignKey("sales.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    paid_at: Mapped[Optional[datetime]]

    lines: Mapped[list["OrderLine"]] = relationship(back_populates="order", order_by="OrderLine.id")
    events: Mapped[list["OrderEvent"]] = relationship(back_populates="order", order_by="OrderEvent.id")
    sale: Mapped[Optional[Sale]] = relationship()

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


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


# --- microsite content ------------------------------------------------------------------------------

class SitePage(db.Model):
    """Editable microsite pages by key: tentang (vision/mission), unit-usaha, potensi-desa, kontak."""

    __tablename__ = "site_pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    body_markdown: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")  # sanitised when saved
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class BoardMember(db.Model):
    __tablename__ = "board_members"
    __table_args__ = (CheckConstraint("body IN ('pengurus','pengawas')", name="body_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(10), default="pengurus")
    photo_hash: Mapped[str] = mapped_column(String(64), default="", info=PHOTO_REFERENCE)
    photo_width: Mapped[int] = mapped_column(default=0)
    photo_height: Mapped[int] = mapped_column(default=0)
    position_order: Mapped[int] = mapped_column(default=0)


class NewsPost(db.Model):
    __tablename__ = "news_posts"
    __table_args__ = (CheckConstraint("status IN ('draft','published')", name="status_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(220), unique=True)
    summary: Mapped[str] = mapped_column(String(300), default="")
    body_markdown: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")  # sanitised when saved
    cover_hash: Mapped[str] = mapped_column(String(64), default="", info=PHOTO_REFERENCE)
    cover_width: Mapped[int] = mapped_column(default=0)
    cover_height: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    published_at: Mapped[Optional[datetime]] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
