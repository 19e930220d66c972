"""Catalog models: categories, products owned by members, ordered photos, search outbox."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from marketplace.i18n import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.extensions import db
from marketplace.models import Member
from marketplace.photos import PHOTO_REFERENCE, variant_height, variant_name
from marketplace.timeutil import utcnow

STATUS_DRAFT = "draft"
STATUS_PUBLISHED = "published"
STATUS_ARCHIVED = "archived"
STATUSES = (STATUS_DRAFT, STATUS_PUBLISHED, STATUS_ARCHIVED)
# Products and news posts share these statuses; pages show them with `publication_label`.
STATUS_LABELS = {STATUS_DRAFT: _l("Draft"), STATUS_PUBLISHED: _l("Published"), STATUS_ARCHIVED: _l("Archived")}
MAX_PHOTOS = 8
MAX_UNIT = 50  # the unit column's size
MAX_DESCRIPTION = 5000  # characters
MAX_SKU = 64


class Category(db.Model):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    position: Mapped[int] = mapped_column(default=0)


class Product(db.Model):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("price >= 0", name="price_not_negative"),
        CheckConstraint("status IN ('draft','published','archived')", name="status_known"),
        Index("ix_products_status_category", "status", "category_id"),
        Index("ix_products_status_published", "status", "published_at", "id"),
        Index("ix_products_updated", "updated_at", "id"),
        Index("ix_products_status_name", "status", "name"),  # drafts found by name at the counter, in name order
        # A member's own product code (optional), unique in any letter case: the import matches rows on it.
        Index("uq_products_member_sku_ci", "member_id", text("lower(sku)"), unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    category_id: Mapped[Optional[int]] = mapped_column(ForeignKey("categories.id"))
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(220), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    price: Mapped[int]  # integer Rupiah
    unit: Mapped[str] = mapped_column(String(50), default="pcs")
    status: Mapped[str] = mapped_column(String(16), default=STATUS_DRAFT)
    sku: Mapped[Optional[str]] = mapped_column(String(MAX_SKU))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    published_at: Mapped[Optional[datetime]]

    member: Mapped[Member] = relationship()
    category: Mapped[Optional[Category]] = relationship()
    photos: Mapped[list["ProductPhoto"]] = relationship(
        back_populates="product", order_by="ProductPhoto.position", cascade="all, delete-orphan"
    )

    @property
    def is_published(self) -> bool:
        return self.status == STATUS_PUBLISHED

    @property
    def cover(self) -> Optional["ProductPhoto"]:
        return self.photos[0] if self.photos else None


class ProductPhoto(db.Model):
    """A photo: the original is kept privately; WebP variants are served by content hash."""

    __tablename__ = "product_photos"
    __table_args__ = (UniqueConstraint("product_id", "position", name="uq_product_photos_position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    position: Mapped[int]
    content_hash: Mapped[str] = mapped_column(String(64), index=True, info=PHOTO_REFERENCE)
    original_ext: Mapped[str] = mapped_column(String(8))
    width: Mapped[int]
    height: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    product: Mapped[Product] = relationship(back_populates="photos")

    def variant_name(self, width: int) -> str:
        return variant_name(self.content_hash, width)

    def variant_height(self, width: int) -> int:
        return variant_height(self.width, self.height, width)


class SearchOutbox(db.Model):
    """Products whose search entry must be refreshed.

    Written in the same transaction as the product change, so no change is ever lost even when
    the index is busy or a worker dies; drained after commit and by `flask reindex`.
    """

    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
