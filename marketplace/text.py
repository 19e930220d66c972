"""Small text helpers shared by the domain packages."""
from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from marketplace.i18n import gettext as _

from .errors import DomainError

_NON_WORD = re.compile(r"[^a-z0-9]+")


def slugify(text: str, max_length: int = 80) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = _NON_WORD.sub("-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "item"


def normalise_phone(raw: str) -> str:
    """Indonesian phone/WhatsApp numbers in international form without '+': '0812-3456' -> '628123456'."""
    digits = re.sub(r"\D", "", raw or "")
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    elif digits.startswith("8"):
        digits = "62" + digits
    return digits


def whatsapp_link(number: str, text: str) -> str:
    """A wa.me link that opens a chat with `number` (international form, no '+') with `text` typed in."""
    return f"https://wa.me/{number}?text={quote(text)}"


def limited(value: str | None, limit: int, field: str, label: str) -> str:
    """`value` stripped, or a DomainError on `field` when it is longer than `limit` characters: long text
    is refused with a message saying by how much, never cut without a word."""
    text = (value or "").strip()
    if len(text) > limit:
        raise DomainError(_("%(label)s is too long: %(n)d characters, at most %(max)d.", label=label, n=len(text),
                            max=limit), field=field)
    return text
