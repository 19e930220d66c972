"""Read-side rules of the public storefront: only published products, search and browse."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, func, select
from sqlalchemy.orm import selectinload

from catalog.models import STATUS_PUBLISHED, Category, Product
from catalog.search import SearchFilters, search_products
from marketplace.extensions import db

PAGE_SIZE = 24
SORTS = ("relevance", "newest", "price_asc", "price_desc")


@dataclass
class BrowseResult:
    products: list[Product]
    total: int
    page: int
    pages: int
    any_word: bool = False
    approximate: bool = False


def _with_relations(stmt, category: bool = False):
    """Load what a product tile shows (photos, member); the product page also shows the category."""
    stmt = stmt.options(selectinload(Product.photos), selectinload(Product.member))
    return stmt.options(selectinload(Product.category)) if category else stmt


def published_by_ids(ids: list[int]) -> list[Product]:
    """Load products in the order given, dropping any not (or no longer) published."""
    if not ids:
        return []
    rows = db.session.scalars(_with_relations(select(Product).where(Product.id.in_(ids),
                                                                    Product.status == STATUS_PUBLISHED)))
    by_id = {p.id: p for p in rows}
    return [by_id[i] for i in ids if i in by_id]


def _newest_buyable_first(stmt, offset: int) -> list[Product]:
    """One page of `stmt`'s products, newest first, those with stock on hand first. Two index-ordered scans
    (with stock, then without) that stop after the page, instead of ordering every published product by a
    computed stock figure: a page costs its offset, not the catalogue or the ledger."""
    from consignment.models import ConsignmentLot

    buyable = exists().where(ConsignmentLot.product_id == Product.id, ConsignmentLot.on_hand > 0)
    newest = (Product.published_at.desc(), Product.id.desc())
    products = list(db.session.scalars(_with_relations(stmt.where(buyable).order_by(*newest)
                                                       .limit(PAGE_SIZE).offset(offset))))
    if len(products) < PAGE_SIZE:  # past the products with stock: continue with those without
        with_stock = offset + len(products) if products else db.session.scalar(
            select(func.count()).select_from(stmt.where(buyable).subquery()))
        products += db.session.scalars(_with_relations(stmt.where(~buyable).order_by(*newest)
                                                       .limit(PAGE_SIZE - len(products))
                                                       .offset(max(offset - with_stock, 0))))
    return products


def browse(text: str = "", filters: SearchFilters | None = None, page: int = 1) -> BrowseResult:
    filters = filters or SearchFilters()
    page = max(page, 1)
    offset = (page - 1) * PAGE_SIZE
    if text.strip():
        found = search_products(text, filters, limit=PAGE_SIZE, offset=offset)
        products, total, any_word = published_by_ids(found.ids), found.total, found.corrected
        approximate = found.approximate
        if filters.sort == "relevance":  # best matches first, and within this page what can be bought now first
            stock = stock_for(products)
            products = sorted(products, key=lambda p: stock.get(p.id, 0) <= 0)
    else:
        stmt = select(Product).where(Product.status == STATUS_PUBLISHED)
        if filters.category_id:
            stmt = stmt.where(Product.category_id == filters.category_id)
        if filters.min_price is not None:
            stmt = stmt.where(Product.price >= filters.min_price)
        if filters.max_price is not None:
            stmt = stmt.where(Product.price <= filters.max_price)
        total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
        order = {"price_asc": (Product.price.asc(), Product.id.asc()),
                 "price_desc": (Product.price.desc(), Product.id.desc())}.get(filters.sort)
        if order is None:
            products = _newest_buyable_first(stmt, offset)
        else:
            products = db.session.scalars(_with_relations(stmt.order_by(*order).limit(PAGE_SIZE).offset(offset))).all()
        any_word, approximate = False, False
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    return BrowseResult(products=list(products), total=total, page=page, pages=pages, any_word=any_word,
                        approximate=approximate)


def suggestions(text: str, limit: int = 8) -> list[dict]:
    """Product names for the search box as the user types."""
    if len(text.strip()) < 2:
        return []
    found = search_products(text, SearchFilters(), limit=limit)
    return [{"name": p.name, "slug": p.slug} for p in published_by_ids(found.ids)]


def published_product(slug: str) -> Product | None:
    return db.session.scalar(_with_relations(select(Product).where(Product.slug == slug,
                                                                   Product.status == STATUS_PUBLISHED), category=True))


def new_in_the_shop(limit: int = 8, look_back: int = 40) -> tuple[list[Product], dict[int, int]]:
    """The home page's newest products, those a shopper can buy now first; and their stock.

    Looks at the newest `look_back` published products only (their ids and one stock query), then loads
    the `limit` chosen with their photos and member, so the cost does not grow with the catalogue or the
    ledger and the ORM builds 8 products, not 40.
    """
    from consignment.services import product_stock

    ids = list(db.session.scalars(select(Product.id).where(Product.status == STATUS_PUBLISHED)
                                  .order_by(Product.published_at.desc(), Product.id.desc()).limit(look_back)))
    stock = product_stock(ids)
    chosen = published_by_ids(sorted(ids, key=lambda pid: stock[pid] <= 0)[:limit])  # stable: newest first within
    return chosen, {p.id: stock[p.id] for p in chosen}


def categories_in_use() -> list[Category]:
    used = select(Product.category_id).where(Product.status == STATUS_PUBLISHED).distinct()
    return list(db.session.scalars(select(Category).where(Category.id.in_(used)).order_by(Category.position)))


def monthly_chart_svg(values: list[int], width: int = 600, height: int = 200):
    """Twelve bars, one per month, server-rendered (no JavaScript)."""
    from markupsafe import Markup, escape

    from marketplace.money import format_rupiah

    top = max(values) if values and max(values) > 0 else 1
    bar_w, bottom = width / 12, 20
    bars = []
    for i, v in enumerate(values):
        h = (height - bottom - 4) * v / top
        bars.append(f'<rect x="{i * bar_w + 3:.1f}" y="{height - bottom - h:.1f}" width="{bar_w - 6:.1f}" height="{h:.1f}" '
                    f'fill="#0b5d3b"><title>{i + 1}: {escape(format_rupiah(v))}</title></rect>'
                    f'<text x="{i * bar_w + bar_w / 2:.1f}" y="{height - 5}" font-size="11" text-anchor="middle">{i + 1}</text>')
    return Markup(f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" '
                  f'aria-label="{escape(format_rupiah(sum(values)))}">{"".join(bars)}</svg>')


def member_with_products(slug: str):
    from marketplace.models import Member

    member = db.session.scalar(select(Member).where(Member.slug == slug, Member.active.is_(True)))
    if member is None:
        return None, []
    products = db.session.scalars(_with_relations(select(Product).where(
        Product.member_id == member.id, Product.status == STATUS_PUBLISHED).order_by(Product.name))).all()
    return member, list(products)


def stock_for(products) -> dict[int, int]:
    """Units available per product (one query), for 'out of stock' badges."""
    from consignment.services import product_stock

    return product_stock(p.id for p in products)
