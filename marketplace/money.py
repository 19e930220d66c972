"""Integer Rupiah: the one place money is formatted and parsed."""
from __future__ import annotations

from flask_babel import gettext as _

import re


def format_rupiah(amount: int | None) -> str:
    """12345 -> 'Rp12.345'; -500 -> '-Rp500'. Money is always an integer number of Rupiah."""
    if amount is None:
        return ""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"Rupiah amounts are integers, got {type(amount).__name__}")
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp{abs(amount):,}".replace(",", ".")


_DIGITS_WITH_DOTS = re.compile(r"^\d{1,3}(\.\d{3})+$")


def parse_rupiah(text: str) -> int:
    """Parse what a person types as a price: '62500', '62.500', 'Rp 62.500', '62.500,00'.

    Raises ValueError with a message for the user when it is not a whole Rupiah amount.
    """
    cleaned = (text or "").strip().replace(" ", "")
    if cleaned.lower().startswith("rp"):
        cleaned = cleaned[2:]
    if "," in cleaned:
        whole, _comma, cents = cleaned.partition(",")
        if cents.strip("0"):
            raise ValueError(_("Prices are whole Rupiah, without cents."))
        cleaned = whole
    if _DIGITS_WITH_DOTS.match(cleaned):
        cleaned = cleaned.replace(".", "")
    if not cleaned.isdigit():
        raise ValueError(_("Write the price in digits, e.g. 62500 or 62.500."))
    return int(cleaned)
