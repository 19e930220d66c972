"""Pasar Koperasi application factory."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from flask import Flask, session
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import event
from sqlalchemy.engine import Engine

from . import config as config_module
from .extensions import babel, csrf, db, login_manager, migrate

MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")


def select_locale() -> str:
    from flask import current_app, has_request_context

    if not has_request_context():  # CLI, background work: the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    lang = session.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        return lang
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _sqlite_pragmas(dbapi_connection, connection_record):  # pragma: no cover - exercised on every connect
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA cache_size=-32000")  # 32 MB of page cache per connection (default: 2 MB)
        cursor.close()


event.listen(Engine, "connect", _sqlite_pragmas)


@lru_cache(maxsize=1)
def _whole_numeric_loader():
    from psycopg.types.numeric import NumericLoader  # only when PostgreSQL is in use

    class WholeNumericLoader(NumericLoader):
        def load(self, data):
            value = super().load(data)
            return int(value) if value.is_finite() and value == value.to_integral_value() else value

    return WholeNumericLoader


def _whole_sums_as_int(dbapi_connection, connection_record):  # pragma: no cover - exercised on every connect
    """PostgreSQL returns SUM() of a BIGINT column as NUMERIC, which psycopg reads as Decimal. The schema
    has no NUMERIC column (money is integer Rupiah), so a whole NUMERIC can only be such a sum: read it as
    int, so quantities and Rupiah stay int whichever database summed them."""
    if type(dbapi_connection).__module__.startswith("psycopg"):
        dbapi_connection.adapters.register_loader("numeric", _whole_numeric_loader())


event.listen(Engine, "connect", _whole_sums_as_int)


class _CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, without building the signer for a request that brings no session cookie
    (most storefront visits): an empty session, as Flask's own would open, 20 µs sooner."""

    def open_session(self, app, request):
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=os.environ.get("INSTANCE_PATH") or str(config_module.PROJECT_ROOT / "instance"))
    app.session_interface = _CookieSessions()
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(config_module.from_environment(app.instance_path))
    if config:
        app.config.update(config)
    config_module.check_production_safety(app.config)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # SQLite serialises writers; wait for the lock instead of failing at once.
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"connect_args": {"timeout": 15}})
    else:
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True})
    Path(app.config["MEDIA_ROOT"]).mkdir(parents=True, exist_ok=True)
    if app.config["PROXY_HOPS"]:
        # Behind nginx: the client's address (login rate limit per IP) and https in absolute links
        # (OpenGraph, sitemap, WhatsApp links, password links) come from the proxy's headers.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    from .timeutil import zone_name

    babel.init_app(app, locale_selector=select_locale, timezone_selector=zone_name,
                   default_translation_directories=str(Path(__file__).parent / "translations"))
    from . import i18n

    i18n.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "core.login"
    login_manager.login_message = None

    # Import models of every package so Alembic and relationships see them.
    from catalog import models as _catalog_models  # noqa: F401
    from consignment import models as _consignment_models  # noqa: F401
    from notifications import models as _notifications_models  # noqa: F401
    from orders import models as _orders_models  # noqa: F401
    from qris import models as _qris_models  # noqa: F401
    from settlement import models as _settlement_models  # noqa: F401
    from storefront import models as _storefront_models  # noqa: F401
    from joining import models as _joining_models  # noqa: F401
    from . import once as _once  # noqa: F401

    from . import models  # noqa: F401
    from .accounts import user_for_session

    # A session or remember cookie names "id:token"; the account's current token must match (accounts.py).
    login_manager.user_loader(user_for_session)

    from catalog.search import init_search

    init_search(app)

    from . import templating

    templating.init_app(app)
    from . import shared_values

    shared_values.init_app(app)

    from .routes import bp as core_bp
    from catalog.routes import bp as catalog_bp
    from consignment.routes import bp as consignment_bp
    from notifications.routes import bp as notifications_bp
    from orders.routes import bp as orders_bp
    from qris.routes import bp as qris_bp
    from settlement.routes import bp as settlement_bp
    from storefront.routes import bp as storefront_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(catalog_bp)
    app.register_blueprint(consignment_bp)
    app.register_blueprint(settlement_bp)
    app.register_blueprint(storefront_bp)
    app.register_blueprint(orders_bp)
    app.register_blueprint(qris_bp)
    from joining.routes import bp as joining_bp
    from dataexport.routes import bp as dataexport_bp

    app.register_blueprint(joining_bp)
    app.register_blueprint(dataexport_bp)
    app.register_blueprint(notifications_bp)

    from .cli import register_cli

    register_cli(app)

    from . import hardening

    hardening.init_app(app)

    return app
