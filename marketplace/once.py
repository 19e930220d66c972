"""Acting once: one-time keys for every request that moves money or stock.

A form that moves money or stock carries a key made when the form was rendered (`OnceField`). The
service claims the key as the FIRST statement of its transaction and, when it has acted, remembers
what it created under that key. A repeat of the request — a retry after a dropped connection, a
double tap, the back button, the same form sent by two workers at once — finds the key taken and
gets back what the first request created (the same receipt) instead of acting again.

    with transaction():
        first = once.claim(key, "sale.record", actor)
        if first is not None:
            return db.session.get(Sale, first)
        ... act ...
        once.remember(key, sale.id)

Why it holds under concurrency: the key is inserted with `INSERT … ON CONFLICT DO NOTHING` under a
UNIQUE constraint. On PostgreSQL a second insert of a key whose first insert is not yet committed
waits for that transaction: if it commits, the second insert does nothing and the second request
reads the first one's result; if it rolls back (the sale was refused), the second request owns the
key and acts. On SQLite the insert takes the database's single write lock, so the whole of the
first transaction runs before the second request's insert. Because a refused action rolls back its
key with it, a corrected form may be sent again with the same key. Stripe's idempotency keys are
the model.
"""
from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Optional

from flask import flash
from marketplace.i18n import gettext as _
from marketplace.i18n import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, select, update
from sqlalchemy.orm import Mapped, mapped_column
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import ValidationError

from .errors import DomainError
from .extensions import db
from .timeutil import utcnow
from .transaction import dialect_insert

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class OnceKey(db.Model):
    """A one-time key that was used, by whom, for what, and what the first request created."""

    __tablename__ = "once_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    action: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    result_id: Mapped[Optional[int]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlreadyUsed(DomainError):
    """The key was used by someone else or for another action: never hand over their result."""


def new_key() -> str:
    return secrets.token_urlsafe(18)


def claim(key: str | None, action: str, actor) -> int | None:
    """Claim `key` for `action` by `actor` inside the caller's transaction (call it first).

    None: this request is the first with this key (or sent no key) and acts. An int: the id of what
    the first request created; the caller returns that instead of acting again."""
    if not key:
        return None
    if not KEY_PATTERN.match(key):
        raise DomainError(_("This form is damaged; reload the page and try again."))
    actor_id = getattr(actor, "id", None)
    inserted = db.session.execute(dialect_insert(OnceKey).values(
        key=key, action=action, actor_id=actor_id, created_at=utcnow()).on_conflict_do_nothing(
        index_elements=["key"]).returning(OnceKey.id)).scalar()
    if inserted is not None:
        return None
    first = db.session.execute(select(OnceKey.action, OnceKey.actor_id, OnceKey.result_id)
                               .where(OnceKey.key == key)).one()
    if first.action != action or first.actor_id != actor_id or first.result_id is None:
        raise AlreadyUsed(_("This form was already used; reload the page and try again."))
    return first.result_id


def first_claim(key: str | None, action: str):
    """Who used `key` for `action` and what that request created: an (actor_id, result_id) row, or None
    while nothing is recorded under it (read only)."""
    if not key or not KEY_PATTERN.match(key):
        return None
    return db.session.execute(select(OnceKey.actor_id, OnceKey.result_id).where(
        OnceKey.key == key, OnceKey.action == action, OnceKey.result_id.is_not(None))).first()


def first_result(key: str | None, action: str) -> int | None:
    """What the request that used `key` for `action` created, if any (read only)."""
    claim = first_claim(key, action)
    return claim.result_id if claim else None


def remember(key: str | None, result_id: int) -> None:
    """Record what the request that claimed `key` created (same transaction as the claim)."""
    if key:
        db.session.execute(update(OnceKey).where(OnceKey.key == key).values(result_id=result_id)
                           .execution_options(synchronize_session=False))


def _valid_key(form, field) -> None:
    if not KEY_PATTERN.match(field.data or ""):
        raise ValidationError(_l("This form has expired; reload the page and try again."))


class OnceField(HiddenField):
    """The hidden one-time key of a form that moves money or stock; a fresh key on every render."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators=[_valid_key, *(validators or [])], default=new_key, **kwargs)

    def process_formdata(self, valuelist):
        # A posted form without its key is refused; it must not get a fresh default key (and so act
        # again on every retry).
        self.data = valuelist[0] if valuelist else ""


class OnceForm(FlaskForm):
    """A form that moves money or stock: it carries a one-time key (pass `form.once.data` to the
    service as `once_key`). A missing or damaged key is said in a flash message, not silently."""

    once = OnceField()

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for message in self.once.errors:
            flash(str(message), "error")
        return valid
