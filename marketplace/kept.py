"""Per-process stores of values kept across requests (drawn layout parts, links, shared values)."""
from __future__ import annotations

from typing import Any, Hashable


def keep(store: dict, key: Hashable, value: Any, limit: int) -> None:
    """Remember `value` in a per-app `store` of at most `limit` entries (emptied when full: what a page needs
    is computed again once)."""
    if len(store) >= limit:
        store.clear()
    store[key] = value
