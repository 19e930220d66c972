"""Core models: the cooperative, user accounts, members (UMKM), audit trail, login attempts."""
from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Optional

from marketplace.i18n import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db
from .photos import PHOTO_REFERENCE, PhotoRef, photo_ref
from .timeutil import utcnow

ROLE_MEMBER = "member"
ROLE_KASIR = "kasir"
ROLE_PENGURUS = "pengurus"
ROLE_PENGAWAS = "pengawas"
ROLE_LABELS = {ROLE_MEMBER: _l("member (UMKM)"), ROLE_KASIR: _l("cashier"), ROLE_PENGURUS: _l("board (pengurus)"),
               ROLE_PENGAWAS: _l("supervisor (pengawas)")}
ROLES = (ROLE_MEMBER, ROLE_KASIR, ROLE_PENGURUS, ROLE_PENGAWAS)


class Cooperative(db.Model):
    __tablename__ = "cooperatives"
    __table_args__ = (
        CheckConstraint("default_commission_bp >= 0 AND default_commission_bp <= 10000", name="commission_range"),
        CheckConstraint("statement_fee >= 0", name="fee_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    legal_number: Mapped[str] = mapped_column(String(100), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    village: Mapped[str] = mapped_column(String(200), default="")
    whatsapp: Mapped[str] = mapped_column(String(32), default="")
    about: Mapped[str] = mapped_column(Text, default="")
    # Commission rates are integers in basis points (1500 = 15 %), never floats.
    default_commission_bp: Mapped[int] = mapped_column(default=1500)
    # Optional fixed gerai fee charged on each member's statement (integer Rupiah, 0 = none).
    statement_fee: Mapped[int] = mapped_column(default=0, server_default="0")
    vision: Mapped[str] = mapped_column(Text, default="", server_default="")
    mission: Mapped[str] = mapped_column(Text, default="", server_default="")
    map_url: Mapped[str] = mapped_column(String(500), default="", server_default="")
    email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    hero_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    logo_hash: Mapped[str] = mapped_column(String(64), default="", server_default="", info=PHOTO_REFERENCE)
    logo_width: Mapped[int] = mapped_column(default=0, server_default="0")
    logo_height: Mapped[int] = mapped_column(default=0, server_default="0")
    # IANA name (Asia/Jakarta = WIB, Asia/Makassar = WITA, Asia/Jayapura = WIT); "" = BABEL_DEFAULT_TIMEZONE.
    time_zone: Mapped[str] = mapped_column(String(64), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def logo(self) -> PhotoRef | None:
        return photo_ref(self.logo_hash, self.logo_width, self.logo_height)

    def set_logo(self, stored) -> None:
        """Use a photo stored by marketplace.photos as the logo; None removes it."""
        self.logo_hash, self.logo_width, self.logo_height = (
            (stored.content_hash, stored.width, stored.height) if stored is not None else ("", 0, 0))


class CacheGeneration(db.Model):
    """A token that changes in the same transaction as the rows that values kept across requests are read from:
    database triggers (migration 0021) give `catalogue` a new random value whenever a product's status, category
    or price, a category, the cooperative's row or a news post changes. marketplace.shared_values keeps such
    values per worker process under the token and reads them again when it moves."""
    __tablename__ = "cache_generations"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int]
    # PostgreSQL: the transaction that last wrote it, so a transaction changing many rows writes it once.
    changed_by_tx: Mapped[Optional[int]]


SYSTEM_EMAIL = "sistem@pasar-koperasi.invalid"  # the account recorded for what no person did (accounts.system_user)


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('member','kasir','pengurus','pengawas')", name="role_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[Optional[str]] = mapped_column(String(254), unique=True)
    phone: Mapped[Optional[str]] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[Optional[datetime]]
    # Part of what the session and remember cookies carry (see get_id); a new one ends every session
    # opened before it: on sign-out, password change or reset, and when the account is switched off.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token, server_default="")

    member: Mapped[Optional["Member"]] = relationship(back_populates="user", uselist=False)

    def get_id(self) -> str:  # Flask-Login keeps this in the session and the remember cookie
        return f"{self.id}:{self.session_token}"

    def end_sessions(self) -> None:
        """Every session and remember cookie issued so far stops working (the caller commits)."""
        self.session_token = new_session_token()

    @property
    def is_active(self) -> bool:  # Flask-Login: inactive users cannot sign in, and their sessions end
        # (UserMixin.is_authenticated returns is_active, so login_required turns them away)
        return self.active

    def has_role(self, *roles: str) -> bool:
        """The account's role is one of `roles`; "member" also matches a kasir, pengurus or pengawas
        who has a business (UMKM) profile of their own: board members are often UMKM too."""
        if self.role in roles:
            return True
        return ROLE_MEMBER in roles and self.member is not None

    @property
    def login_name(self) -> str:
        return self.email or self.phone or ""

    @property
    def display_name(self) -> str:
        """The name pages show: the system account (online orders, payment notices) in the reader's language."""
        if self.email == SYSTEM_EMAIL:
            from marketplace.i18n import gettext

            return gettext("System (online orders)")
        return self.name


class Member(db.Model):
    """An UMKM that consigns goods: the business, its owner and where payouts go."""

    __tablename__ = "members"
    __table_args__ = (Index("ix_members_business_name", "business_name", "id"),)  # lists of members by name

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    business_name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(220), unique=True)
    owner_name: Mapped[str] = mapped_column(String(200))
    whatsapp: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(Text, default="")
    bank_name: Mapped[str] = mapped_column(String(100), default="")
    bank_account_number: Mapped[str] = mapped_column(String(50), default="")
    bank_account_holder: Mapped[str] = mapped_column(String(200), default="")
    joined_on: Mapped[date] = mapped_column(default=date.today)
    active: Mapped[bool] = mapped_column(default=True)

    user: Mapped[User] = relationship(back_populates="member")


class AuditEvent(db.Model):
    """Who did what to which object, when and from where. Append-only."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(100))
    object_type: Mapped[str] = mapped_column(String(50))
    object_id: Mapped[Optional[int]]
    summary: Mapped[str] = mapped_column(Text, default="")
    # The event's parameters as JSON; the audit page turns action + params into a sentence in the reader's
    # language (marketplace.audit.describe). "" on rows written before: those show their summary.
    params: Mapped[str] = mapped_column(Text, default="", server_default="")
    ip: Mapped[Optional[str]] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    actor: Mapped[Optional[User]] = relationship()


class LoginAttempt(db.Model):
    """Every sign-in attempt, used to rate-limit guessing across all worker processes."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_identifier_time", "identifier", "created_at"),
        Index("ix_login_attempts_ip_time", "ip", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    identifier: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
