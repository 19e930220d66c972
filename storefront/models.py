"""Storefront models: the cooperative microsite's content (online orders live in the `orders` package)."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.extensions import db
from marketplace.photos import PHOTO_REFERENCE
from marketplace.timeutil import utcnow


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
