"""Jinja filters and globals shared by every package's templates."""
from __future__ import annotations

from flask import Flask, render_template
from flask_babel import format_date, format_datetime, get_locale

from .money import format_rupiah
from .photos import photo_ref
from .timeutil import zone_abbreviation
from .views import absolute_url


def init_app(app: Flask) -> None:
    app.jinja_env.filters["rupiah"] = format_rupiah
    app.jinja_env.filters["date"] = lambda d: format_date(d, "medium") if d else ""
    app.jinja_env.filters["datetime"] = lambda d: format_datetime(d, "medium") if d else ""
    app.jinja_env.filters["role_label"] = _role_label
    app.jinja_env.filters["publication_label"] = _publication_label
    app.jinja_env.globals["zone_abbreviation"] = zone_abbreviation
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale())
    app.jinja_env.globals["photo_ref"] = photo_ref
    app.jinja_env.globals["absolute_url"] = absolute_url
    from storefront.page_cache import csrf_token_for_templates

    app.jinja_env.globals["csrf_token"] = csrf_token_for_templates
    # Flask-WTF also injects csrf_token through a context processor; this one runs later and wins.
    app.context_processor(lambda: {"csrf_token": csrf_token_for_templates})

    @app.context_processor
    def inject_cooperative():
        from .cooperative import current_cooperative

        return {"coop": current_cooperative()}

    for code in (403, 404, 413):
        app.register_error_handler(code, _error_page(code))


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
