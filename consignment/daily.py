"""Sales per local day, kept with the sales: the figures reports sum instead of every sale line.

The sale lines stay the source of truth. `sales_daily` holds, per day of the cooperative's time zone,
the units, gross, commission and line count of the sale lines sold that day, at three grains:

    (day, member, product)   one product's figures        member_id > 0, product_id > 0
    (day, member, 0)         one member's figures          member_id > 0, product_id = 0
    (day, 0, 0)              the whole cooperative's       member_id = 0, product_id = 0

A sale adds its lines' figures; a void adds the same figures negated to the day of the original sale,
so a day's row always equals the SUM of its non-voided lines (a row can come back to all zeros).

How it stays right:
- `record(lines, sign)` is called where sale lines are written (`services.sell_from_lot`) and voided
  (`services.void_sale_in_transaction`). It only queues the figures on the session; just before the
  transaction commits they are written by ONE additive upsert (INSERT … ON CONFLICT DO UPDATE SET
  units = units + excluded.units, …) with the keys in sorted order. The database adds, so concurrent
  sales never lose an update, and PostgreSQL takes the rows' locks in one global order (no deadlock
  between two sales of different members). A rolled-back transaction writes nothing.
- `mismatches()` (in `flask check-ledger`) compares every row with the SUM of the sale lines in one
  statement; `rebuild()` (`check-ledger --repair`, bulk loads, the demo seed) writes them afresh.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from flask import g
from sqlalchemy import Index, delete, event, func, insert, literal, literal_column, select, union_all
from sqlalchemy.orm import Mapped, Session, mapped_column

from marketplace.extensions import db
from marketplace.timeutil import local_midnight_utc, time_zone_changed, to_local
from marketplace.transaction import dialect_insert, transaction

from .models import Sale, SaleLine, SaleVoid

FIGURES = ("units", "gross", "commission", "lines")
_QUEUE = "sales_daily_queue"


class SalesDaily(db.Model):
    """One day's sales figures at one grain (see the module doc); 0 in member_id/product_id means "all"."""

    __tablename__ = "sales_daily"
    __table_args__ = (Index("ix_sales_daily_member_product_day", "member_id", "product_id", "day"),)

    day: Mapped[date] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    product_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    units: Mapped[int] = mapped_column(default=0)
    gross: Mapped[int] = mapped_column(default=0)
    commission: Mapped[int] = mapped_column(default=0)
    lines: Mapped[int] = mapped_column(default=0)


def local_day(column):
    """The cooperative's local calendar day of a naive-UTC timestamp column, computed in SQL (Indonesia's
    zones keep no daylight saving time, so one offset holds for every day)."""
    minutes = round((local_midnight_utc(date(2000, 1, 1)) - datetime(2000, 1, 1)).total_seconds() / -60)
    if db.session.get_bind().dialect.name == "sqlite":
        return func.date(column, f"{minutes:+d} minutes")
    return func.date(column + literal_column(f"interval '{minutes} minutes'"))


# --- writing, with each sale and void ----------------------------------------------------------------

def record(lines, sign: int) -> None:
    """Add (sign=+1, a sale) or subtract (sign=-1, a void) these sale lines' figures on their sale's local
    day; written just before the caller's transaction commits (see the module doc)."""
    queue = db.session.info.setdefault(_QUEUE, defaultdict(lambda: [0, 0, 0, 0]))
    for line in lines:
        day = to_local(line.sale.created_at).date()
        figures = (sign * line.quantity, sign * line.line_total, sign * line.commission, sign)
        for key in ((day, line.member_id, line.product_id), (day, line.member_id, 0), (day, 0, 0)):
            total = queue[key]
            for i, value in enumerate(figures):
                total[i] += value


@event.listens_for(Session, "before_commit")
def _write_queued(session: Session) -> None:
    queue = session.info.pop(_QUEUE, None)
    if not queue:
        return
    rows = [dict(day=day, member_id=member_id, product_id=product_id, **dict(zip(FIGURES, figures)))
            for (day, member_id, product_id), figures in sorted(queue.items())]
    stmt = dialect_insert(SalesDaily).values(rows)
    session.execute(stmt.on_conflict_do_update(
        index_elements=["day", "member_id", "product_id"],
        set_={name: getattr(SalesDaily, name) + getattr(stmt.excluded, name) for name in FIGURES}))


@event.listens_for(Session, "after_soft_rollback")
def _forget_queued(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint
        session.info.pop(_QUEUE, None)


# --- proving and rebuilding ----------------------------------------------------------------------------

def _from_lines():
    """The three grains computed from the non-voided sale lines (a voided sale's lines add up to zero)."""
    day = local_day(Sale.created_at).label("day")
    base = (select(day, SaleLine.member_id, SaleLine.product_id, SaleLine.quantity, SaleLine.line_total,
                   SaleLine.commission).join(Sale, Sale.id == SaleLine.sale_id)
            .where(~select(SaleVoid.id).where(SaleVoid.sale_id == SaleLine.sale_id).exists()).subquery())
    sums = (func.sum(base.c.quantity), func.sum(base.c.line_total), func.sum(base.c.commission), func.count())
    zero = literal(0)
    return union_all(
        select(base.c.day, base.c.member_id, base.c.product_id, *sums)
        .group_by(base.c.day, base.c.member_id, base.c.product_id),
        select(base.c.day, base.c.member_id, zero, *sums).group_by(base.c.day, base.c.member_id),
        select(base.c.day, zero, zero, *sums).group_by(base.c.day))


@dataclass(frozen=True)
class DailyMismatch:
    day: str
    member_id: int
    product_id: int
    difference: tuple[int, int, int, int]  # stored minus sale lines: units, gross, commission, lines


def mismatches() -> list[DailyMismatch]:
    """Rows of sales_daily that differ from the SUM of the sale lines (missing rows count as zero), in one
    statement: the stored figures minus the computed ones, grouped by key, where anything is not zero."""
    stored = select(SalesDaily.day, SalesDaily.member_id, SalesDaily.product_id,
                    *(getattr(SalesDaily, name) for name in FIGURES))
    computed = _from_lines().subquery()
    negated = select(*(computed.c[i] for i in range(3)), *(-computed.c[i] for i in range(3, 7)))
    both = union_all(stored, negated).subquery()
    keys, figures = both.c[:3], [func.sum(c) for c in both.c[3:]]
    rows = db.session.execute(select(*keys, *figures).group_by(*keys)
                              .having(func.abs(figures[0]) + func.abs(figures[1]) + func.abs(figures[2])
                                      + func.abs(figures[3]) != 0)
                              .order_by(*keys))
    return [DailyMismatch(str(day), int(member_id), int(product_id), tuple(int(v) for v in values))
            for day, member_id, product_id, *values in rows]


def _rewrite() -> None:
    db.session.execute(delete(SalesDaily))
    db.session.execute(insert(SalesDaily).from_select(["day", "member_id", "product_id", *FIGURES], _from_lines()))


def rebuild() -> int:
    """Write every row afresh from the sale lines (after a bulk load, or data changed behind the services).
    Returns the number of rows. Run while nothing else sells."""
    with transaction():
        _rewrite()
    return db.session.scalar(select(func.count()).select_from(SalesDaily))


@time_zone_changed.connect
def _rekey_after_a_zone_change(cooperative) -> None:
    """The cooperative's zone changed (inside that transaction): the days move, so the rows are rewritten
    in the same transaction, under the new zone."""
    g.pop("cooperative", None)  # current_cooperative() reads the new zone
    _rewrite()
