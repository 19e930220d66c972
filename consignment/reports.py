"""Reports for pengurus: stock on hand by member and category, sales by day/member/product, a chart."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from marketplace.i18n import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import and_, exists, func, select

from catalog.models import Category, Product
from marketplace.extensions import db
from marketplace.models import Member
from marketplace.money import format_rupiah

from .daily import SalesDaily
from .models import ConsignmentLot

GROUPINGS = ("day", "member", "product")


@dataclass
class StockRow:
    member: str
    category: str
    units: int
    value: int  # at consignment prices, integer Rupiah


def members_named(text: str, limit: int, exact: bool = False) -> list:
    """Members whose business name contains `text` — or, `exact`, is `text` — in any case, by name:
    (id, business_name) rows."""
    named = (func.lower(Member.business_name) == func.lower(text) if exact
             else Member.business_name.icontains(text, autoescape=True))  # a typed % or _ is a character
    return db.session.execute(select(Member.id, Member.business_name).where(named)
                              .order_by(Member.business_name, Member.id).limit(limit)).all()


def _stock_select(member_ids: list[int] | None = None, category_id: int | None = None):
    """Units and value on hand per member and category, from the lots' balances: summed per member and
    product first (from the index on lots alone), then each product's category looked up by key."""
    lots = (select(ConsignmentLot.member_id, ConsignmentLot.product_id,
                   func.sum(ConsignmentLot.on_hand).label("units"),
                   func.sum(ConsignmentLot.on_hand * ConsignmentLot.unit_price).label("value"))
            .where(ConsignmentLot.on_hand > 0))
    if member_ids is not None:
        lots = lots.where(ConsignmentLot.member_id.in_(member_ids))
    lots = lots.group_by(ConsignmentLot.member_id, ConsignmentLot.product_id).subquery()
    # The category of each product, looked up by key per row: a join let PostgreSQL hash all 50,000 products.
    category_of = (select(Product.category_id).where(Product.id == lots.c.product_id).correlate(lots)
                   .scalar_subquery())
    per = select(lots.c.member_id, category_of.label("category_id"), lots.c.units, lots.c.value).subquery()
    stmt = (select(Member.business_name, func.coalesce(Category.name, ""), func.sum(per.c.units), func.sum(per.c.value))
            .select_from(per).join(Member, Member.id == per.c.member_id)
            .outerjoin(Category, Category.id == per.c.category_id)
            .group_by(Member.business_name, Category.name).order_by(Member.business_name, Category.name))
    if category_id is not None:
        stmt = stmt.where(per.c.category_id == category_id)
    return stmt


def stock_by_member_category(member_id: int | None = None, category_id: int | None = None) -> list[StockRow]:
    return [StockRow(m, c, int(u), int(v)) for m, c, u, v in db.session.execute(stock_export(member_id, category_id))]


def stock_page(page: int, members_per_page: int, category_id: int | None = None) -> tuple[list[StockRow], bool]:
    """One page of the report: the rows of a page of members with stock (in name order), and whether more
    members follow. Scoped to those members' lots first, so a page does not read every lot."""
    with_stock = exists().where(ConsignmentLot.member_id == Member.id, ConsignmentLot.on_hand > 0)
    ids = list(db.session.scalars(select(Member.id).where(with_stock).order_by(Member.business_name, Member.id)
                                  .limit(members_per_page + 1).offset((page - 1) * members_per_page)))
    if not ids:
        return [], False
    stmt = _stock_select(ids[:members_per_page], category_id)
    return [StockRow(m, c, int(u), int(v)) for m, c, u, v in db.session.execute(stmt)], len(ids) > members_per_page


def stock_export(member_id: int | None = None, category_id: int | None = None):
    """The whole report as a SELECT, for a streamed CSV download."""
    return _stock_select(None if member_id is None else [member_id], category_id)


@dataclass
class SalesRow:
    key: str
    label: str
    units: int
    gross: int
    commission: int


def _sales_select(start: date, end: date, group: str, member_id: int | None, category_id: int | None):
    """Sums of the daily sales figures (consignment.daily), never of the sale lines: per day it reads one row
    per day (or per day of one member); per member one row per member and day; per product, or for a
    category (a product's current category, as the lines would say), the product rows. Grouped first, then
    joined to the names of the groups (not a name lookup per row)."""
    per_product = group == "product" or category_id is not None
    if per_product:
        grain = SalesDaily.product_id > 0
    elif group == "member":
        grain = and_(SalesDaily.member_id > 0, SalesDaily.product_id == 0)
    else:
        grain = and_(SalesDaily.member_id == (member_id or 0), SalesDaily.product_id == 0)
    key = {"member": SalesDaily.member_id, "product": SalesDaily.product_id}.get(group, SalesDaily.day)
    sums = (func.sum(SalesDaily.units).label("units"), func.sum(SalesDaily.gross).label("gross"),
            func.sum(SalesDaily.commission).label("commission"))
    inner = (select(key.label("key"), *sums).where(grain, SalesDaily.day >= start, SalesDaily.day <= end)
             .group_by(key).having(func.sum(SalesDaily.lines) != 0))  # a day of voided sales only: gone
    if member_id is not None:
        inner = inner.where(SalesDaily.member_id == member_id)
    if category_id is not None:
        inner = inner.join(Product, Product.id == SalesDaily.product_id).where(Product.category_id == category_id)
    if group == "day":
        return inner.order_by(key).with_only_columns(key, key, *sums)
    totals = inner.subquery()
    named = Member if group == "member" else Product
    label = Member.business_name if group == "member" else Product.name
    return (select(totals.c.key, label, totals.c.units, totals.c.gross, totals.c.commission)
            .join(named, named.id == totals.c.key).order_by(totals.c.gross.desc(), totals.c.key))


def sales_summary(start: date, end: date, group: str = "day", member_id: int | None = None,
                  category_id: int | None = None, limit: int | None = None, offset: int = 0) -> list[SalesRow]:
    """Paid, non-voided sale lines between two local dates (inclusive), grouped; optionally one member's or
    one category's, and one page of the groups."""
    stmt = _sales_select(start, end, group, member_id, category_id).limit(limit).offset(offset)
    return [SalesRow(str(k), str(lbl), int(u), int(g), int(c)) for k, lbl, u, g, c in db.session.execute(stmt)]


def sales_export(start: date, end: date, group: str = "day", member_id: int | None = None,
                 category_id: int | None = None):
    """Every group as a SELECT, for a streamed CSV download."""
    return _sales_select(start, end, group, member_id, category_id)


def sales_csv_cells(row) -> tuple:
    key, label, units, gross, commission = row
    return (str(key), str(label), int(units), int(gross), int(commission), int(gross) - int(commission))


def daily_chart_svg(daily: list[SalesRow], start: date, end: date, width: int = 640, height: int = 180) -> Markup:
    """A server-rendered bar chart of gross sales per day (no JavaScript)."""
    by_day = {row.key: row.gross for row in daily}
    days = [(start + timedelta(days=i)) for i in range((end - start).days + 1)]
    values = [by_day.get(d.isoformat(), 0) for d in days]
    top = max(values) if values and max(values) > 0 else 1
    pad_left, pad_bottom = 4, 18
    bar_w = (width - pad_left) / max(len(days), 1)
    bars = []
    for i, (d, v) in enumerate(zip(days, values)):
        h = (height - pad_bottom - 4) * v / top
        x = pad_left + i * bar_w
        bars.append(f'<rect x="{x:.1f}" y="{height - pad_bottom - h:.1f}" width="{max(bar_w - 2, 1):.1f}" '
                    f'height="{h:.1f}" fill="#0b5d3b"><title>{escape(d.isoformat())}: {escape(format_rupiah(v))}'
                    f'</title></rect>')
    first, last = days[0].strftime("%d/%m"), days[-1].strftime("%d/%m")
    axis = (f'<text x="{pad_left}" y="{height - 4}" font-size="11">{first}</text>'
            f'<text x="{width - 4}" y="{height - 4}" font-size="11" text-anchor="end">{last}</text>')
    label = _("%(total)s in all, at most %(top)s a day", total=format_rupiah(sum(values)),
              top=format_rupiah(max(values) if values else 0))
    return Markup(f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{escape(label)}">'
                  f'{"".join(bars)}{axis}</svg>')
