"""The storefront's grid of product tiles, written here rather than in a Jinja macro.

Every storefront list shows up to 24 tiles, and in a macro each tile cost ~26 µs (a dozen attribute lookups
through the sandbox-safe `getattr`, two helper calls through `Context.call`, the filters): a third of an
uncached `/produk`. Here a tile is one f-string over values escaped once; its photo is the `picture` every
template shows. `tests/storefront/test_tiles.py` checks links, photos, lazy loading, escaping and the stock
badge."""
from __future__ import annotations

from markupsafe import Markup, escape

from marketplace.i18n import gettext as _
from marketplace.money import format_rupiah
from marketplace.templating import picture, product_href


def tiles(products, eager_first: int = 0) -> Markup:
    """`products` (storefront.services.Tile rows) as a grid; the first `eager_first` photos load at once,
    the rest lazily."""
    out_of_stock = f'<p class="by"><span class="badge archived">{escape(_("Out of stock"))}</span></p>'
    parts = ['<ul class="grid">']
    for index, tile in enumerate(products, 1):
        name = escape(tile.name)
        parts.append(
            f'<li class="tile"><a href="{escape(product_href(tile.slug))}">'
            f'{picture(tile.cover, name, eager=index <= eager_first)}'
            f'<div class="body"><p class="name">{name}</p>'
            f'<p class="price">{escape(format_rupiah(tile.price))} <small class="muted">/ {escape(tile.unit)}</small></p>'
            f'<p class="by">{escape(tile.business_name)}</p>'
            f'{out_of_stock if tile.available <= 0 else ""}</div></a></li>')
    parts.append("</ul>")
    return Markup("\n".join(parts))
