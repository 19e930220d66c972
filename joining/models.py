"""A request to consign goods in the gerai, sent from the public page; no account exists until approved.

The request's status moves only through TRANSITIONS (pending -> approved | declined), each as a
compare-and-set in services.py; pages ask `join.can("approve")`.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from marketplace.i18n import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.extensions import db
from marketplace.models import Member, User
from marketplace.photos import PHOTO_REFERENCE, PhotoRef, photo_ref
from marketplace.timeutil import utcnow

PENDING, APPROVED, DECLINED = "pending", "approved", "declined"
STATUSES = (PENDING, APPROVED, DECLINED)
STATUS_LABELS = {PENDING: _l("waiting"), APPROVED: _l("approved"), DECLINED: _l("declined")}
APPROVE, DECLINE = "approve", "decline"
# action -> (statuses it may start from, status it leads to)
TRANSITIONS = {APPROVE: ((PENDING,), APPROVED), DECLINE: ((PENDING,), DECLINED)}


class JoinRequest(db.Model):
    __tablename__ = "join_requests"
    __table_args__ = (
        CheckConstraint("status IN ('pending','approved','declined')", name="join_status_known"),
        Index("ix_join_requests_ip_time", "ip", "created_at"),
        Index("ix_join_requests_whatsapp_time", "whatsapp", "created_at"),
        Index("ix_join_requests_status_time", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_name: Mapped[str] = mapped_column(String(200))
    owner_name: Mapped[str] = mapped_column(String(200))
    whatsapp: Mapped[str] = mapped_column(String(32))  # normalised: 628…
    address: Mapped[str] = mapped_column(Text, default="")
    makes: Mapped[str] = mapped_column(Text, default="")  # what she makes, in her words
    photo_hash: Mapped[str] = mapped_column(String(64), default="", server_default="", info=PHOTO_REFERENCE)
    photo_width: Mapped[int] = mapped_column(default=0, server_default="0")
    photo_height: Mapped[int] = mapped_column(default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    decline_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[Optional[datetime]]
    decided_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    member_id: Mapped[Optional[int]] = mapped_column(ForeignKey("members.id"), unique=True)

    decided_by: Mapped[Optional[User]] = relationship()
    member: Mapped[Optional[Member]] = relationship()

    @property
    def photo(self) -> PhotoRef | None:
        return photo_ref(self.photo_hash, self.photo_width, self.photo_height)

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.status, self.status))

    def can(self, action: str) -> bool:
        return self.status in TRANSITIONS[action][0]


class JoinPhotoKeep(db.Model):
    """A photo kept for a visitor after a failed submit of the public join form, by client address: the
    photo pipeline's work and disk are budgeted per address (JOIN_MAX_KEPT_PHOTOS within JOIN_WINDOW_HOURS)."""

    __tablename__ = "join_photo_keeps"
    __table_args__ = (Index("ix_join_photo_keeps_ip_time", "ip", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ip: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
