"""The outbox (`notifications`) and each account's choices (`notification_preferences`).

A notification is written in the same transaction as the change that caused it, under its own UNIQUE
key ("sale:<sale_id>:<member_id>", "low:<product>:<its newest stock movement>"), so one event can never be
queued twice and a rolled-back change queues nothing. Its status is a small state machine (STATUS_* and TRANSITIONS below); every move is
a compare-and-set UPDATE, so two senders, two staff taps or two webhook deliveries cannot both act.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from marketplace.i18n import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.extensions import db
from marketplace.models import User
from marketplace.timeutil import utcnow

CHANNEL_WHATSAPP = "whatsapp"  # the Cloud API, sent by `flask send-notifications`
CHANNEL_MANUAL = "manual"  # no API keys: staff send it with one tap on wa.me
CHANNEL_INAPP = "inapp"  # only in the member's inbox (she chose so, or there is no number)
CHANNELS = (CHANNEL_WHATSAPP, CHANNEL_MANUAL, CHANNEL_INAPP)

PENDING = "pending"  # waiting for the sender (next_attempt_at)
SENDING = "sending"  # claimed by one sender (lease_until, claim_token)
SENT = "sent"  # accepted by the Cloud API (provider_message_id); for in-app: in the inbox
DELIVERED = "delivered"
READ = "read"
FAILED = "failed"  # given up, or unknown whether sent: staff decide (retry or wa.me)
MANUAL_PENDING = "manual_pending"  # on the staff's "Messages to send" list
MANUAL_SENT = "manual_sent"  # a staff member tapped it (wa.me opened)
STATUSES = (PENDING, SENDING, SENT, DELIVERED, READ, FAILED, MANUAL_PENDING, MANUAL_SENT)

# action -> (statuses it may start from, status it leads to)
TRANSITIONS = {
    "claim": ((PENDING,), SENDING),
    "accepted": ((SENDING,), SENT),
    "retry_later": ((SENDING,), PENDING),
    "give_up": ((SENDING,), FAILED),
    "lease_lost": ((SENDING,), FAILED),
    "webhook_sent": ((PENDING, SENDING), SENT),  # a status naming our key after a timed-out send
    "webhook_delivered": ((PENDING, SENDING, SENT), DELIVERED),
    "webhook_read": ((PENDING, SENDING, SENT, DELIVERED), READ),
    "webhook_failed": ((PENDING, SENDING, SENT), FAILED),
    "tap": ((MANUAL_PENDING, FAILED), MANUAL_SENT),
    "resend": ((FAILED,), PENDING),
    "to_manual": ((FAILED,), MANUAL_PENDING),
}

STATUS_LABELS = {
    PENDING: _l("Waiting to be sent"), SENDING: _l("Sending"), SENT: _l("Sent"), DELIVERED: _l("Delivered"),
    READ: _l("Read"), FAILED: _l("Not sent"), MANUAL_PENDING: _l("To send by hand"),
    MANUAL_SENT: _l("Sent by hand"),
}


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint("status IN ('pending','sending','sent','delivered','read','failed','manual_pending',"
                        "'manual_sent')", name="status_known"),
        CheckConstraint("channel IN ('whatsapp','manual','inapp')", name="channel_known"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_notifications_user_id_id", "user_id", "id"),  # the inbox: newest first
        Index("ix_notifications_due", "channel", "status", "next_attempt_at"),  # the sender's claim
        Index("ix_notifications_status_id", "status", "id"),  # staff lists
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))  # None: not an account (join request)
    phone: Mapped[str] = mapped_column(String(32), default="")  # WhatsApp number, international, no '+'
    event: Mapped[str] = mapped_column(String(30))
    params: Mapped[str] = mapped_column(Text, default="{}")  # JSON: the template's parameters, in order
    text: Mapped[str] = mapped_column(Text)  # the Indonesian message as sent (the template's body filled in)
    channel: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[Optional[datetime]]
    lease_until: Mapped[Optional[datetime]]
    claim_token: Mapped[Optional[str]] = mapped_column(String(32))
    provider_message_id: Mapped[Optional[str]] = mapped_column(String(128), index=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[Optional[datetime]]
    sent_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))  # staff who tapped wa.me
    read_at: Mapped[Optional[datetime]]  # the member opened it in the app

    user: Mapped[Optional[User]] = relationship(foreign_keys=[user_id])
    sent_by: Mapped[Optional[User]] = relationship(foreign_keys=[sent_by_id])

    def can(self, action: str) -> bool:
        return self.status in TRANSITIONS[action][0]

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.status, self.status))


class NotificationPreference(db.Model):
    """What an account wants on WhatsApp (everything is always in the inbox). No row: the defaults."""

    __tablename__ = "notification_preferences"
    __table_args__ = (
        CheckConstraint("low_stock_threshold >= 0", name="threshold_not_negative"),
        CheckConstraint("sold_mode IN ('each','daily')", name="sold_mode_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    whatsapp_events: Mapped[str] = mapped_column(String(200))  # comma-separated event codes
    sold_mode: Mapped[str] = mapped_column(String(10), default="each")  # each sale, or one daily summary
    low_stock_threshold: Mapped[int] = mapped_column(default=3)  # 0: no low-stock messages
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
