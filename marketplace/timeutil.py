"""Time helpers: the database stores naive UTC; templates localise with Flask-Babel."""
from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
