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


def dialect_insert(model):
    """An INSERT that can say ON CONFLICT DO NOTHING / DO UPDATE on the database in use (SQLite or
    PostgreSQL, which spell it the same way)."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = db.session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(model)
