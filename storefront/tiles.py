"""The storefront's grid of product tiles, written here rather than in a Jinja macro.

Every storefront list shows up to 24 tiles, and in a macro each tile cost ~26 µs (a dozen attribute lookups
through the sandbox-safe `getattr`, two helper calls through `Context.call`, the filters): a third of an
uncached `/produk`. Here a tile is one f-string over values escaped once; its photo is the `picture` every
template shows.

A tile's HTML is a pure function of what it shows — the row read for this request (name, price, unit,
business, cover photo, whether any stock is on hand), whether its photo loads at once, the request's link
prefixes and the language's "sold out" label — so each worker remembers the HTML of the tiles it drew lately
under exactly those values. Nothing is served from memory that the database did not just say: a changed
price, photo or stock is a different key, and the page shows it on the next request. `tests/storefront/
test_tiles.py` checks links, photos, lazy loading, escaping, the stock badge and that a change is shown."""
from __future__ import annotations

from functools import lru_cache

from markupsafe import Markup, escape

from marketplace.i18n import gettext as _
from marketplace.money import format_rupiah
from marketplace.templating import photo_prefix, picture, product_href, product_prefix

# ≈ 1 KB each: ≈ 4 MB per worker at most, the tiles of the ~170 listing pages browsed most lately.
REMEMBERED_TILES = 4096


def tiles(products, eager_first: int = 0) -> Markup:
    """`products` (storefront.services.Tile rows) as a grid; the first `eager_first` photos load at once,
    the rest lazily."""
    sold_out, product_at, photo_at = _("Out of stock"), product_prefix(), photo_prefix()
    parts = [_tile_html(t.slug, t.name, t.price, t.unit, t.business_name, t.cover, t.available > 0,
                        index <= eager_first, product_at, photo_at, sold_out)
             for index, t in enumerate(products, 1)]
    return Markup('<ul class="grid">\n' + "".join(part + "\n" for part in parts) + "</ul>")


@lru_cache(maxsize=REMEMBERED_TILES)
def _tile_html(slug: str, name: str, price: int, unit: str, business_name: str, cover, in_stock: bool, eager: bool,
               product_at: str, photo_at: str, sold_out: str) -> str:
    name = escape(name)
    badge = "" if in_stock else f'<p class="by"><span class="badge archived">{escape(sold_out)}</span></p>'
    return (f'<li class="tile"><a href="{escape(product_href(slug, product_at))}">'
            f'{picture(cover, name, eager=eager, prefix=photo_at)}'
            f'<div class="body"><p class="name">{name}</p>'
            f'<p class="price">{escape(format_rupiah(price))} <small class="muted">/ {escape(unit)}</small></p>'
            f'<p class="by">{escape(business_name)}</p>{badge}</div></a></li>')
