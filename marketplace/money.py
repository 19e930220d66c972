"""Integer Rupiah: the one place money is formatted and parsed.

`parse_rupiah` reads an amount the way Indonesians write it. marketplace/static/money.js is a port of the
same rules for the POS change preview; tests/marketplace/test_money.py runs one table of cases against both.
"""
from __future__ import annotations

import re

from marketplace.i18n import gettext as _

MAX_RUPIAH = 10**12  # a trillion Rupiah: anything larger is a typing mistake

_MULTIPLIERS = {"rb": 1_000, "ribu": 1_000, "k": 1_000, "jt": 1_000_000, "juta": 1_000_000}
_PREFIX = re.compile(r"^rp\.?\s*")
_NO_CENTS = re.compile(r"\s*[,.]?-$")  # "15.000,-": the ",-" says "no cents"
_SUFFIX = re.compile(r"^(.*?)\s*(rb|ribu|k|jt|juta)$")
_GROUPED = re.compile(r"^(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d+))?$")  # 15.000 / 15000 / 15.000,00
_ENGLISH_GROUPED = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$")  # 15,000 / 1,250,000.00
_DECIMAL_POINT = re.compile(r"^\d+\.\d{1,2}$")  # 12.5 / 62.50
_SHORT = re.compile(r"^(\d+)(?:[.,](\d+))?$")  # the number before rb/jt: 15 / 1,5 / 1.25


class MoneyError(ValueError):
    """An amount that cannot be read as whole Rupiah. `kind` is 'invalid', 'fraction' or 'ambiguous'."""

    def __init__(self, kind: str, typed: str):
        self.kind, self.typed = kind, typed
        super().__init__(self.message)

    @property
    def message(self) -> str:
        if self.kind == "fraction":
            return _("Rupiah amounts are whole numbers, without cents: write e.g. 15.000 or 15.000,00.")
        if self.kind == "ambiguous":
            return _("“%(typed)s” could be read two ways: write thousands with dots, e.g. 15.000, or as 15rb.",
                     typed=self.typed)
        return _("Write the amount in Rupiah, e.g. 15000, 15.000, Rp15.000, 15rb or 1,5jt.")

    def __str__(self) -> str:
        return self.message


def format_rupiah(amount: int | None) -> str:
    """12345 -> 'Rp12.345'; -500 -> '-Rp500'. Money is always an integer number of Rupiah."""
    if amount is None:
        return ""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"Rupiah amounts are integers, got {type(amount).__name__}")
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp{abs(amount):,}".replace(",", ".")


def parse_rupiah(text: str | None) -> int:
    """Read an amount as people type it: '15000', '15.000', 'Rp 15.000,-', '15.000,00', '15rb', '15 ribu',
    '15k', '1,5jt', '1.5 juta' -> 15000 (or 1500000). Refuses cents ('15.000,50', '12.5'), readings that
    could go two ways ('15,000', '1.500rb') and anything else with a `MoneyError` whose message (in the
    request's language) shows what to type."""
    typed = " ".join((text or "").split())
    amount = _parse(typed.lower(), typed)
    if amount > MAX_RUPIAH:
        raise MoneyError("invalid", typed)
    return amount


def _parse(s: str, typed: str) -> int:
    s = _NO_CENTS.sub("", _PREFIX.sub("", s))
    multiplier = 1
    suffixed = _SUFFIX.match(s)
    if suffixed:
        s, multiplier = suffixed.group(1), _MULTIPLIERS[suffixed.group(2)]
    s = s.replace(" ", "")  # "15 000"
    if multiplier == 1:
        grouped = _GROUPED.match(s)
        if grouped:
            whole, cents = grouped.group(1), grouped.group(2)
            if cents is not None and len(cents) == 3 and "." not in whole:
                raise MoneyError("ambiguous", typed)  # "15,000": fifteen thousand, or fifteen?
            if cents and cents.strip("0"):
                raise MoneyError("fraction", typed)
            return int(whole.replace(".", ""))
        if _ENGLISH_GROUPED.match(s):
            raise MoneyError("ambiguous", typed)
        if _DECIMAL_POINT.match(s):
            raise MoneyError("fraction", typed)
        raise MoneyError("invalid", typed)
    short = _SHORT.match(s)
    if not short:
        raise MoneyError("invalid", typed)
    whole, decimals = short.group(1), short.group(2) or ""
    if len(decimals) == 3:
        raise MoneyError("ambiguous", typed)  # "1.500rb": one and a half thousand, or 1.500 thousand?
    scale = 10 ** len(decimals)
    fraction = int(decimals or "0") * multiplier
    if fraction % scale:
        raise MoneyError("fraction", typed)
    return int(whole) * multiplier + fraction // scale
