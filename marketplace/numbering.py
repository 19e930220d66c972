"""Human-readable document numbers (sales, return slips, orders) derived from the row's id."""
from __future__ import annotations

import secrets
from typing import Callable, TypeVar

from .extensions import db

T = TypeVar("T")


def add_numbered(obj: T, make_number: Callable[[int], str]) -> T:
    """Add `obj` to the session and give it `make_number(id)` as its number.

    The number column is unique and not null, and the id exists only after the insert, so the row
    goes in with a random placeholder that is replaced in the same transaction.
    """
    obj.number = f"tmp-{secrets.token_hex(8)}"
    db.session.add(obj)
    db.session.flush()
    obj.number = make_number(obj.id)
    return obj
