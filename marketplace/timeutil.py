"""Time helpers: the database stores naive UTC; templates localise with Flask-Babel."""
from __future__ import annotations

from datetime import UTC, datetime, time


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _zone():
    """The cooperative's time zone (BABEL_DEFAULT_TIMEZONE; Asia/Jakarta by default)."""
    from zoneinfo import ZoneInfo

    from flask import current_app, has_app_context

    name = current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Jakarta") if has_app_context() else "Asia/Jakarta"
    return ZoneInfo(name)


def local_now() -> datetime:
    """Now in the cooperative's time zone, naive."""
    return datetime.now(_zone()).replace(tzinfo=None)


def local_today():
    return local_now().date()


def local_midnight_utc(day) -> datetime:
    """The naive-UTC instant at which a local calendar day begins (for range queries on UTC columns)."""
    return datetime.combine(day, time.min, tzinfo=_zone()).astimezone(UTC).replace(tzinfo=None)


def to_local(moment_utc: datetime) -> datetime:
    """A naive-UTC timestamp from the database as the cooperative's local wall time."""
    return moment_utc.replace(tzinfo=UTC).astimezone(_zone()).replace(tzinfo=None)
