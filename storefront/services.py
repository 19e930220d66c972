"""Read-side rules of the public storefront: only published products, search and browse."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import bindparam, exists, func, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from catalog.models import STATUS_PUBLISHED, Category, Product, ProductPhoto
from catalog.search import SearchFilters, search_products
from consignment.models import ConsignmentLot
from marketplace.extensions import db
from marketplace.models import Member
from marketplace.photos import PhotoRef
from marketplace.shared_values import remembered

PAGE_SIZE = 24
# Browsing counts matching products only up to here ("more than 1.000 products"): a page costs what it shows,
# not a COUNT over the whole catalogue (4 ms at 50,000 products, on every request).
COUNT_CAP = 1000
SORTS = ("relevance", "newest", "price_asc", "price_desc")


@dataclass(frozen=True, slots=True)
class Tile:
    """What a product tile shows: read as plain rows, not ORM objects (a page of 24 products with photos and
    members as objects cost more than the rest of the page)."""
    id: int
    slug: str
    name: str
    price: int
    unit: str
    business_name: str
    cover: PhotoRef | None
    available: int  # units on hand across the product's lots


_cover = aliased(ProductPhoto)
_first_position = (select(func.min(ProductPhoto.position)).where(ProductPhoto.product_id == Product.id)
                   .correlate(Product).scalar_subquery())


def _stock_of(product):
    """Units on hand across `product`'s lots (Product or an alias of it), for its row of a query."""
    return (select(func.coalesce(func.sum(ConsignmentLot.on_hand), 0)).where(ConsignmentLot.product_id == product.id)
            .correlate(product).scalar_subquery())


_on_hand = _stock_of(Product)
_newest = (Product.published_at.desc(), Product.id.desc())

# The storefront's statements are built once, with bound parameters for what varies: building a SELECT of
# this size (and its cache key) cost more than running it from SQLAlchemy's compiled cache, four times a page.
_TILES = (select(Product.id, Product.slug, Product.name, Product.price, Product.unit, Member.business_name,
                 _cover.content_hash, _cover.width, _cover.height, _on_hand)
          .join(Member, Member.id == Product.member_id)
          .outerjoin(_cover, (_cover.product_id == Product.id) & (_cover.position == _first_position)))
# The status is checked in Python, so the planner looks the ids up by key.
_TILES_BY_IDS = _TILES.add_columns(Product.status).where(Product.id.in_(bindparam("ids", expanding=True)))
# The home page: of the newest `look_back` published products, those with stock first, newest first within.
# The choice is made on the products' stock alone; the tiles' other columns are read for the chosen only.
_chosen = aliased(Product)
_NEW_IN_THE_SHOP = (
    _TILES.where(Product.id.in_(
        select(_chosen.id)
        .where(_chosen.id.in_(select(Product.id).where(Product.status == STATUS_PUBLISHED)
                              .order_by(*_newest).limit(bindparam("look_back"))))
        .order_by(_stock_of(_chosen) <= 0, _chosen.published_at.desc(), _chosen.id.desc())
        .limit(bindparam("limit"))))
    .order_by(_on_hand <= 0, *_newest))
_CATEGORIES_IN_USE = (select(Category.id, Category.name).where(exists().where(Product.category_id == Category.id,
                                                            Product.status == STATUS_PUBLISHED))
                      .order_by(Category.position))


def _read(statement, params: dict | None = None):
    """Run one of the storefront's column statements on the session's connection: the rows are plain values,
    so the ORM's per-statement setup (a third of each of these statements' cost) buys nothing."""
    return db.session.connection().execute(statement, params or {})


def _tile(row) -> Tile:
    return Tile(row[0], row[1], row[2], row[3], row[4], row[5], PhotoRef(row[6], row[7], row[8]) if row[6] else None,
                int(row[9]))


def tiles_by_ids(ids: list[int]) -> list[Tile]:
    """The tiles of published products `ids`, in that order (one query: product, business, cover, stock; kept
    per worker under the catalogue's generation, which moves with anything a tile shows: migration 0022)."""
    if not ids:
        return []
    ids = tuple(ids)

    def read() -> tuple:
        by_id = {row[0]: _tile(row) for row in _read(_TILES_BY_IDS, {"ids": list(ids)})
                 if row[10] == STATUS_PUBLISHED}
        return tuple(by_id[i] for i in ids if i in by_id)

    return list(remembered(("tiles of", ids), read))


@dataclass
class BrowseResult:
    products: list[Tile]
    total: int
    page: int
    pages: int | None  # None: more than COUNT_CAP products, the last page is not known
    any_word: bool = False
    approximate: bool = False
    more: bool = False  # browsing found more than `total` (= COUNT_CAP) products

    @property
    def has_next(self) -> bool:
        return self.page < self.pages if self.pages is not None else len(self.products) == PAGE_SIZE


@lru_cache(maxsize=64)
def _browse_statements(category: bool, min_price: bool, max_price: bool, sort: str):
    """Browsing's statements for one shape of filters (which are set, the order), values bound at execution:
    the capped count, and one page of tiles — newest first with those in stock first, or by price. A page's
    tiles are read in the statement that chooses the page (its ids in a subquery that stops after the page):
    one statement where a page of ids and then their tiles were two."""
    chosen = aliased(Product)
    stmt = select(chosen.id).where(chosen.status == STATUS_PUBLISHED)
    if category:
        stmt = stmt.where(chosen.category_id == bindparam("category_id"))
    if min_price:
        stmt = stmt.where(chosen.price >= bindparam("min_price"))
    if max_price:
        stmt = stmt.where(chosen.price <= bindparam("max_price"))
    count = select(func.count()).select_from(stmt.limit(COUNT_CAP + 1).subquery())

    def tiles_of(ids, *order):
        return _TILES.where(Product.id.in_(ids.order_by(*(o(chosen) for o in order)).limit(bindparam("limit"))
                                           .offset(bindparam("offset")))).order_by(*(o(Product) for o in order))

    order = {"price_asc": (lambda p: p.price.asc(), lambda p: p.id.asc()),
             "price_desc": (lambda p: p.price.desc(), lambda p: p.id.desc())}.get(sort)
    if order is not None:
        return count, tiles_of(stmt, *order), None, None
    newest = (lambda p: p.published_at.desc(), lambda p: p.id.desc())
    buyable = exists().where(ConsignmentLot.product_id == chosen.id, ConsignmentLot.on_hand > 0)
    buyable_before = select(func.count()).select_from(stmt.where(buyable).limit(bindparam("offset")).subquery())
    return count, tiles_of(stmt.where(buyable), *newest), tiles_of(stmt.where(~buyable), *newest), buyable_before


def _tiles(statement, params: dict) -> list[Tile]:
    return [_tile(row) for row in _read(statement, params)]


def _newest_buyable_first(statements, params: dict, offset: int) -> list[Tile]:
    """One page of tiles, newest first, those with stock on hand first. Two index-ordered scans (with stock,
    then without) that stop after the page, instead of ordering every published product by a computed stock
    figure: a page costs its offset, not the catalogue or the ledger."""
    _, buyable_page, other_page, buyable_before = statements
    tiles = _tiles(buyable_page, {**params, "limit": PAGE_SIZE, "offset": offset})
    if len(tiles) < PAGE_SIZE:  # past the products with stock: continue with those without
        # How many products with stock came before: known from this page, else counted (at most `offset`).
        with_stock = offset + len(tiles) if tiles or not offset else _read(
            buyable_before, {**params, "offset": offset}).scalar()
        tiles += _tiles(other_page, {**params, "limit": PAGE_SIZE - len(tiles),
                                     "offset": max(offset - with_stock, 0)})
    return tiles


def browse(text: str = "", filters: SearchFilters | None = None, page: int = 1) -> BrowseResult:
    filters = filters or SearchFilters()
    page = max(page, 1)
    offset = (page - 1) * PAGE_SIZE
    if text.strip():
        found = search_products(text, filters, limit=PAGE_SIZE, offset=offset)
        products, total, any_word = tiles_by_ids(found.ids), found.total, found.corrected
        approximate = found.approximate
        if filters.sort == "relevance":  # best matches first, and within this page what can be bought now first
            products = sorted(products, key=lambda p: p.available <= 0)
    else:
        params = {"category_id": filters.category_id or None, "min_price": filters.min_price,
                  "max_price": filters.max_price}
        params = {name: value for name, value in params.items() if value is not None}
        statements = _browse_statements("category_id" in params, "min_price" in params, "max_price" in params,
                                        filters.sort if filters.sort in ("price_asc", "price_desc") else "newest")
        # The capped count is kept per worker until a product changes (marketplace.shared_values).
        total = remembered(("products counted", *sorted(params.items())),
                           lambda: _read(statements[0], params).scalar())
        # A page of tiles is kept like the count: the generation moves with anything a tile shows or its order
        # depends on — a product's columns, photos, business name, a lot's stock crossing zero (migration 0022).
        by_price = statements[2] is None

        def read_page() -> tuple:
            if by_price:
                return tuple(_tiles(statements[1], {**params, "limit": PAGE_SIZE, "offset": offset}))
            return tuple(_newest_buyable_first(statements, params, offset))

        products = remembered(("products page", filters.sort if by_price else "newest", *sorted(params.items()),
                               offset), read_page)
        any_word, approximate = False, False
    more = not text.strip() and total > COUNT_CAP
    total = min(total, COUNT_CAP) if more else total
    pages = None if more else max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    return BrowseResult(products=list(products), total=total, page=page, pages=pages, any_word=any_word,
                        approximate=approximate, more=more)


def suggestions(text: str, limit: int = 8) -> list[dict]:
    """Product names for the search box as the user types."""
    if len(text.strip()) < 2:
        return []
    found = search_products(text, SearchFilters(), limit=limit)
    return [{"name": p.name, "slug": p.slug} for p in tiles_by_ids(found.ids)]


# Built once: building it and its cache key cost more than running it. Its member and category come in its
# own row (joined), its photos in one more statement.
_PUBLISHED_PRODUCT = (select(Product).where(Product.slug == bindparam("slug"), Product.status == STATUS_PUBLISHED)
                      .options(selectinload(Product.photos), joinedload(Product.member),
                               joinedload(Product.category)))


def published_product(slug: str) -> Product | None:
    """A published product with what its page shows (photos, member, category): two statements."""
    return db.session.scalar(_PUBLISHED_PRODUCT, {"slug": slug})


def new_in_the_shop(limit: int = 8, look_back: int = 40) -> list[Tile]:
    """The home page's newest products, those a shopper can buy now first.

    One query over the newest `look_back` published products only (their stock and tiles), so the cost does
    not grow with the catalogue or the ledger.
    """
    return list(remembered(("new in the shop", limit, look_back), lambda: tuple(
        _tile(row) for row in _read(_NEW_IN_THE_SHOP, {"look_back": look_back, "limit": limit}))))


def categories_in_use() -> tuple:
    """Categories with a published product (rows of id and name, in the shop's order): one index probe per
    category (products (status, category_id)), not a DISTINCT over every published product; kept per worker
    until a product or category changes (marketplace.shared_values)."""
    return remembered("categories in use", lambda: tuple(_read(_CATEGORIES_IN_USE)))


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
    ids = db.session.scalars(select(Product.id).where(
        Product.member_id == member.id, Product.status == STATUS_PUBLISHED).order_by(Product.name))
    return member, tiles_by_ids(list(ids))
