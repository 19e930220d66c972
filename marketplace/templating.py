"""Jinja filters and globals shared by every package's templates."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from urllib.parse import quote

from babel import Locale, dates
from jinja2 import pass_context
from flask import Flask, current_app, g, render_template, request, url_for
from flask_babel import get_locale, get_timezone

from markupsafe import Markup, escape

from .kept import keep
from .money import format_rupiah
from .photos import photo_ref
from .timeutil import zone_abbreviation, zone_name
from .views import absolute_url


def init_app(app: Flask) -> None:
    app.jinja_env.filters["rupiah"] = format_rupiah
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["role_label"] = _role_label
    app.jinja_env.filters["publication_label"] = _publication_label
    app.jinja_env.globals["url_for"] = remembered_url_for
    app.extensions["remembered_urls"] = {}
    app.jinja_env.globals["zone_abbreviation"] = zone_abbreviation
    app.jinja_env.globals["zone_name"] = zone_name
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale())
    app.jinja_env.globals["photo_ref"] = photo_ref
    app.jinja_env.globals["photo_sources"] = photo_sources
    app.jinja_env.globals["picture_html"] = picture
    app.jinja_env.globals["product_href"] = product_href
    from storefront.tiles import tiles

    app.jinja_env.globals["tiles"] = tiles
    app.jinja_env.globals["query_args"] = query_args
    app.jinja_env.globals["layout"] = layout
    app.extensions["layout_parts"] = {}
    app.jinja_env.globals["drawn_once"] = drawn_once
    app.extensions["drawn_parts"] = {}
    app.jinja_env.globals["absolute_url"] = absolute_url
    from storefront.page_cache import csrf_token_for_templates

    app.jinja_env.globals["csrf_token"] = csrf_token_for_templates
    # Flask-WTF also injects csrf_token through a context processor; this one runs later and wins.
    app.context_processor(lambda: {"csrf_token": csrf_token_for_templates})

    @app.context_processor
    def inject_cooperative():
        from .shared_values import cooperative_view

        return {"coop": cooperative_view()}

    for code in (403, 404, 413):
        app.register_error_handler(code, _error_page(code))


# --- dates and times, as Flask-Babel's format_date / format_datetime would write them ----------------------
# Flask-Babel (through Babel) looks the locale's patterns up and parses them again on every call: 20 µs a date
# and 55 µs a date and time, and a list page shows a hundred. The parsed patterns are kept per locale and
# format here; the output is the same (tests/marketplace/test_templating.py compares them).

@lru_cache(maxsize=16)
def _patterns(locale: Locale, format: str):
    return (dates.get_datetime_format(format, locale=locale).replace("'", ""),
            dates.parse_pattern(dates.get_date_format(format, locale=locale)),
            dates.parse_pattern(dates.get_time_format(format, locale=locale)))


def _local(value: datetime, zone) -> datetime:
    """A datetime in `zone` (a naive one is UTC)."""
    return (value.replace(tzinfo=UTC) if value.tzinfo is None else value).astimezone(zone)


# A page of lots or sales shows the same few days over and over, and the same page is read again and again: the
# text of each (value, format, language, zone) is kept (≈ 0.2 MB per worker at most).
REMEMBERED_DATES = 2048


def format_date(value: date | datetime | None, format: str = "medium") -> str:
    """A date (a naive-UTC datetime is first moved to the cooperative's zone), e.g. "5 Nov 2026"."""
    if not value:
        return ""
    return _date_text(value, format, get_locale(), get_timezone())


@lru_cache(maxsize=REMEMBERED_DATES)
def _date_text(value: date | datetime, format: str, locale: Locale, zone) -> str:
    return _patterns(locale, format)[1].apply(_local(value, zone) if isinstance(value, datetime) else value, locale)


def format_datetime(value: datetime | None, format: str = "medium") -> str:
    """A naive-UTC datetime in the cooperative's zone, e.g. "5 Nov 2026 10.04.05"."""
    if not value:
        return ""
    return _datetime_text(value, format, get_locale(), get_timezone())


@lru_cache(maxsize=REMEMBERED_DATES)
def _datetime_text(value: datetime, format: str, locale: Locale, zone) -> str:
    local = _local(value, zone)
    glue, date_pattern, time_pattern = _patterns(locale, format)
    return glue.replace("{0}", time_pattern.apply(local, locale)).replace("{1}", date_pattern.apply(local, locale))


VARIANT_WIDTHS = (320, 640, 1280)


@dataclass(frozen=True)
class PhotoSources:
    src: str
    srcset: str
    width: int
    height: int


REMEMBERED_URLS = 4096  # per app: every page's fixed links and those of the items shown lately
REMEMBERED_URL_LENGTH = 300  # longer links are built every time: at most ≈ 4 MB of links kept per worker


def remembered_url_for(endpoint: str, **values) -> str:
    """Templates' url_for, remembered per app: the same endpoint and arguments give the same relative URL
    (under this request's script root; no rule here depends on the host), and a storefront page builds
    about thirty links, twelve microseconds each. Relative endpoints (".x"), url_for's own options
    (`_external`, `_anchor`…) and unhashable arguments are built every time."""
    if endpoint[0] == "." or any(name[0] == "_" for name in values):
        return url_for(endpoint, **values)
    try:
        key = (request.script_root, endpoint, *sorted(values.items()))
        remembered = current_app.extensions["remembered_urls"]
        url = remembered.get(key)
    except TypeError:  # an unhashable argument, e.g. a list of ids
        return url_for(endpoint, **values)
    if url is None:
        url = url_for(endpoint, **values)
        if len(url) <= REMEMBERED_URL_LENGTH:  # a link naming a crafted long query (`next=…`) is not kept
            keep(remembered, key, url, REMEMBERED_URLS)
    return url


# --- the layout's header and footer --------------------------------------------------------------------------
# Every page draws the same header and footer: about twenty links and fifteen translations, a quarter of a
# simple page's time. They depend only on what `layout` puts in the key, so each worker draws each variant once
# and keeps it; the sign-out form's CSRF token (the visitor's own) is put in every time.

LAYOUT_PARTS = 2048  # per app: variants of language × signed in × cart size × cooperative × (header) page
_LAYOUT_CSRF = "__layout_csrf_token__"


@pass_context
def layout(context, part: str) -> Markup:
    """The layout's `part` ("head", "top" or "foot", templates _layout_<part>.html) for this page."""
    coop = context.get("coop")
    user = context.get("current_user")
    signed_in = bool(user is not None and user.is_authenticated)
    full_path, cart_count = (request.full_path, context.get("cart_count", 0)) if part == "top" else ("", 0)
    key = (part, str(get_locale()), request.script_root, signed_in, cart_count,
           (coop.name, coop.logo, coop.legal_number) if coop is not None and part != "head" else None, full_path)
    parts = current_app.extensions["layout_parts"]
    html = parts.get(key)
    if html is None:
        html = current_app.jinja_env.get_template(f"_layout_{part}.html").render(
            coop=coop, cart_count=cart_count, signed_in=signed_in, full_path=full_path, csrf_token=lambda: _LAYOUT_CSRF)
        if len(full_path) <= REMEMBERED_URL_LENGTH:  # a page named by a crafted long query is drawn, not kept
            keep(parts, key, html, LAYOUT_PARTS)
    if signed_in and _LAYOUT_CSRF in html:
        html = html.replace(_LAYOUT_CSRF, context["csrf_token"]())
    return Markup(html)


DRAWN_PARTS = 1024  # per app: e.g. the product list's filter form for the searches and filters seen lately


def drawn_once(template: str, key: tuple, **context) -> Markup:
    """`template` rendered with `context`, kept per app under `key` (plus the language and the script root,
    added here): `key` must name everything the output depends on. For a part many requests draw alike."""
    full_key = (template, str(get_locale()), request.script_root, *key)
    parts = current_app.extensions["drawn_parts"]
    try:
        html = parts.get(full_key)
        keepable = sum(len(value) for value in key if isinstance(value, str)) <= REMEMBERED_URL_LENGTH
    except TypeError:  # an unhashable value in the key: drawn every time
        html, keepable = None, False
    if html is None:
        html = current_app.jinja_env.get_template(template).render(**context)
        if keepable:  # one drawn for a crafted long query is not kept
            keep(parts, full_key, html, DRAWN_PARTS)
    return Markup(html)


def query_args(**overrides) -> dict:
    """This request's query arguments for a link to another page of the same list (pager, filters): without
    the names url_for reserves (`_external`, `_scheme`, `_anchor`…, which a crafted query string could
    otherwise turn into a broken or foreign link), with `overrides` (None drops an argument)."""
    args = {k: v for k, v in request.args.items() if not k.startswith("_")}
    args.update(overrides)
    return {k: v for k, v in args.items() if v is not None}


def _url_prefix(endpoint: str, name: str) -> str:
    """What every URL of `endpoint` shares before its last part `name`, kept for the request (a page of tiles
    needs a product link and four photo URLs a tile: one url_for instead of five)."""
    prefixes = g.get("url_prefixes")
    if prefixes is None:
        prefixes = g.url_prefixes = {}
    prefix = prefixes.get(endpoint)
    if prefix is None:
        prefix = prefixes[endpoint] = remembered_url_for(endpoint, **{name: "x"})[:-1]
    return prefix


def product_prefix() -> str:
    """What every product page's URL starts with, for this request."""
    return _url_prefix("storefront.product_detail", "slug")


def product_href(slug: str, prefix: str | None = None) -> str:
    """A product page's URL (slugs are URL-safe: lowercase letters, digits and hyphens) —
    `tests/storefront/test_routes.py` checks it agrees with url_for."""
    return (prefix or product_prefix()) + quote(slug, safe="")


def photo_prefix() -> str:
    """What every photo variant's URL starts with, for this request."""
    return _url_prefix("core.photo_file", "name")


def photo_sources(photo, width: int = 320, prefix: str | None = None) -> PhotoSources:
    """src, srcset (each variant once: a small photo's variants are all its own width), width and height of
    a product photo or a PhotoRef shown `width` pixels wide (`prefix`: photo_prefix(), when known)."""
    prefix, seen, parts = prefix or photo_prefix(), set(), []
    for w in VARIANT_WIDTHS:
        real = min(w, photo.width)
        if real not in seen:
            seen.add(real)
            parts.append(f"{prefix}{photo.variant_name(w)} {real}w")
    return PhotoSources(src=prefix + photo.variant_name(width), srcset=", ".join(parts),
                        width=min(width, photo.width), height=photo.variant_height(width))


# A transparent 4:3 placeholder for a missing photo (no request, no layout shift).
NO_PHOTO = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='4' height='3'/%3E"


def picture(photo, alt, sizes: str = "(min-width: 40rem) 25vw, 50vw", width: int = 320, eager: bool = False,
            prefix: str | None = None) -> Markup:
    """A photo (or PhotoRef) as a WebP <img> with its srcset, its size set so the page does not jump, lazy
    unless `eager`; without a photo, a placeholder of the same shape. Templates call it through the
    `picture` macro of _photo.html; the storefront's tiles call it directly."""
    if not photo:
        return Markup(f'<img src="{NO_PHOTO}" width="320" height="240" alt="{escape(alt)}">')
    s, loading = photo_sources(photo, width, prefix), "" if eager else 'loading="lazy" '
    return Markup(f'<img src="{escape(s.src)}" srcset="{escape(s.srcset)}" sizes="{escape(sizes)}" width="{s.width}" '
                  f'height="{s.height}" alt="{escape(alt)}" {loading}decoding="async">')


def _role_label(role: str) -> str:
    from .models import ROLE_LABELS

    return str(ROLE_LABELS.get(role, role))


def _publication_label(status: str) -> str:
    from catalog.models import STATUS_LABELS

    return str(STATUS_LABELS.get(status, status))


def _error_page(code: int):
    def handler(error):
        return render_template("error.html", code=code, error=error), code

    return handler
