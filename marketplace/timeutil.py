"""Time: the database stores naive UTC; everything shown or counted by day uses the cooperative's time zone.

The single place the zone is decided: `zone_name()` — the cooperative's setting (Cooperative.time_zone,
editable in /admin/koperasi), or BABEL_DEFAULT_TIMEZONE when it is not set. Flask-Babel's date filters,
report days, settlement cut-offs and receipts all go through it.
"""
from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from blinker import Namespace
from marketplace.i18n import lazy_gettext as _l

DEFAULT_ZONE = "Asia/Jakarta"
# Sent inside the transaction that changes the cooperative's zone (after its flush): figures kept per local day
# are re-keyed in that same transaction (consignment.daily listens).
time_zone_changed = Namespace().signal("time-zone-changed")
# Indonesia's three zones, as people name them.
ZONE_ABBREVIATIONS = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}
ZONE_CHOICES = (
    ("Asia/Jakarta", _l("WIB: Sumatra, Java, West and Central Kalimantan")),
    ("Asia/Makassar", _l("WITA: Bali, Nusa Tenggara, South, East and North Kalimantan, Sulawesi")),
    ("Asia/Jayapura", _l("WIT: Maluku and Papua")),
)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def zone_name() -> str:
    """The cooperative's time zone name (e.g. "Asia/Makassar")."""
    from flask import current_app, has_app_context

    if not has_app_context():
        return DEFAULT_ZONE
    from .shared_values import cooperative_view

    coop = cooperative_view()
    if coop is not None and coop.time_zone:
        return coop.time_zone
    return current_app.config.get("BABEL_DEFAULT_TIMEZONE") or DEFAULT_ZONE


def zone_abbreviation() -> str:
    """WIB, WITA or WIT (other zones: their own abbreviation, e.g. "+08")."""
    name = zone_name()
    return ZONE_ABBREVIATIONS.get(name) or datetime.now(ZoneInfo(name)).strftime("%Z")


def _zone() -> ZoneInfo:
    return ZoneInfo(zone_name())


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
