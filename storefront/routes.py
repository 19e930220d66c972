"""Public storefront routes: home, product browsing and search, product pages."""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, render_template, request, url_for
from marketplace.i18n import gettext as _

from catalog.search import SearchFilters
from marketplace.money import parse_rupiah
from marketplace.security import public
from marketplace.text import whatsapp_link
from marketplace.views import absolute_url

from . import services
from .page_cache import cached_page

bp = Blueprint("storefront", __name__, template_folder="templates")


def _price_arg(name: str) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return parse_rupiah(raw)
    except ValueError:
        return None


@bp.get("/")
@public
@cached_page
def home():
    from .microsite import published_news

    return render_template("storefront/home.html", products=services.new_in_the_shop(8), news=published_news(3))


@bp.get("/produk")
@public
@cached_page
def products():
    q = request.args.get("q", "")[:200]
    sort = request.args.get("urut", "relevance" if q else "newest")
    filters = SearchFilters(
        category_id=request.args.get("kategori", type=int) or None,
        min_price=_price_arg("min"), max_price=_price_arg("max"),
        sort=sort if sort in services.SORTS else "relevance",
    )
    result = services.browse(q, filters, page=request.args.get("page", 1, type=int) or 1)
    return render_template("storefront/products.html", q=q, filters=filters, result=result,
                           categories=services.categories_in_use())


@bp.get("/produk/saran")
@public
def suggest():
    response = jsonify(services.suggestions(request.args.get("q", "")[:100]))
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


@bp.get("/produk/<slug>")
@public
@cached_page
def product_detail(slug: str):

    from consignment.services import product_stock
    from marketplace.money import format_rupiah
    from marketplace.shared_values import cooperative_view

    product = services.published_product(slug) or abort(404)
    available = product_stock([product.id])[product.id]
    coop = cooperative_view()
    url = absolute_url("storefront.product_detail", slug=product.slug)
    text = _("Hello, I would like to order %(product)s (%(price)s / %(unit)s): %(url)s", product=product.name,
             price=format_rupiah(product.price), unit=product.unit, url=url)
    whatsapp = whatsapp_link(coop.whatsapp, text) if coop and coop.whatsapp else None
    return render_template("storefront/product.html", product=product, available=available, whatsapp=whatsapp,
                           canonical=url)


@bp.get("/umkm/<slug>")
@public
@cached_page
def member_page(slug: str):
    member, products = services.member_with_products(slug)
    if member is None:
        abort(404)
    return render_template("storefront/member.html", member=member, products=products)


@bp.get("/transparansi")
@public
@cached_page
def transparency():
    from settlement.services import transparency as figures

    data = figures()
    return render_template("storefront/transparency.html", t=data, chart=services.monthly_chart_svg(data.paid_out_by_month))


from . import site_routes  # noqa: E402,F401  (register more routes on bp)
