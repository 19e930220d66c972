"""Values many pages show and few requests change, kept per worker process across requests.

The cooperative's row (every page's header, footer and time zone), the categories in use and how many
products a filter finds (the product list), the newest news (the home page): a page used to read them on every
request. They are kept here under the catalogue's generation, a token that database triggers move in the same
transaction as any change to the rows they come from (migration 0021 names the tables and columns). A request
reads the token once, before anything it validates, and uses a kept value only if it was kept under that token,
so a change made by any worker, command or script shows on the next request everywhere. Reading the data
after the token means a value is never older than its token says; at worst a newer one is read again.

A request that has written anything in its open transaction neither uses nor keeps values: it reads its own
uncommitted rows, which another request must not see.
"""
from __future__ import annotations

from dataclasses import make_dataclass
from typing import Any, Callable, Hashable

from flask import current_app, g, has_app_context, has_request_context
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from .extensions import db
from .kept import keep
from .models import Cooperative
from .photos import photo_ref

LIMIT = 1024  # values kept per process (the filters' counts are the many); all are dropped when it is full
_GENERATION = text("SELECT value FROM cache_generations WHERE name = 'catalogue'")
_UNSET = object()


def generation() -> int | None:
    """The catalogue's token as this request first read it (None: no token, nothing is kept)."""
    token = g.get("_catalogue_generation", _UNSET) if has_request_context() else _UNSET
    if token is _UNSET:
        token = db.session.connection().execute(_GENERATION).scalar()
        if has_request_context():
            g._catalogue_generation = token
    return token


def _writing() -> bool:
    """This request has written in its open transaction, or holds changes not yet flushed."""
    if g.get("_wrote_in_transaction"):
        return True
    session = db.session()
    return bool(session.new or session.deleted or (len(session.identity_map) and session.dirty))


def remembered(key: Hashable, compute: Callable[[], Any]) -> Any:
    """`compute()`, or what it returned earlier in this process under the same catalogue generation. The
    value is shared by every later request: it must be immutable (tuples, rows, frozen dataclasses)."""
    if _writing():
        return compute()
    token = generation()
    if token is None:
        return compute()
    store = current_app.extensions["shared_values"]
    kept = store.get(key)
    if kept is not None and kept[0] == token:
        return kept[1]
    value = compute()
    if not _writing():  # computing may have flushed this request's own changes
        keep(store, key, (token, value), LIMIT)
    return value


# --- the cooperative, as templates and the time zone read it --------------------------------------------------

_COLUMNS = tuple(Cooperative.__table__.columns)
CooperativeView = make_dataclass(
    "CooperativeView", [column.key for column in _COLUMNS], frozen=True,
    namespace={"logo": property(lambda self: photo_ref(self.logo_hash, self.logo_width, self.logo_height)),
               "__doc__": "The cooperative's row as pages show it: read-only, shared by the requests of a process."})
_FIRST = select(*_COLUMNS).order_by(Cooperative.id).limit(1)


def _read_cooperative():
    # Through the session, so a change this request has made but not flushed is flushed and read.
    row = db.session.execute(_FIRST).first()
    return CooperativeView(*row) if row is not None else None


def cooperative_view():
    """The cooperative's row for reading (templates, the time zone): no query while the catalogue's generation
    stands. Code that changes the cooperative uses marketplace.cooperative.current_cooperative()."""
    return remembered("cooperative", _read_cooperative)


# --- keeping track of this request's writes --------------------------------------------------------------------

def _wrote(session, flush_context) -> None:
    if has_app_context():
        g._wrote_in_transaction = True


def _dml(orm_execute_state) -> None:
    if (orm_execute_state.is_insert or orm_execute_state.is_update or orm_execute_state.is_delete) and has_app_context():
        g._wrote_in_transaction = True


def _transaction_ended(session) -> None:
    if has_app_context():
        g.pop("_wrote_in_transaction", None)
        g.pop("_catalogue_generation", None)  # a commit may have moved it


event.listen(Session, "after_flush", _wrote)
event.listen(Session, "do_orm_execute", _dml)
event.listen(Session, "after_commit", _transaction_ended)
event.listen(Session, "after_rollback", _transaction_ended)


def init_app(app) -> None:
    app.extensions["shared_values"] = {}
