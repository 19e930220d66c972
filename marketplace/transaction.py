"""The one way a service owns its transaction."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from .extensions import db


@contextmanager
def transaction(after_commit: Callable[[], None] | None = None) -> Iterator[None]:
    """Commit what the block did, or roll all of it back if it raised; then run `after_commit`."""
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    if after_commit is not None:
        after_commit()
