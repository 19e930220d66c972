"""Configuration read from environment variables, with safe defaults for the embedded mode."""
from __future__ import annotations

import os
from pathlib import Path

DEFAULT_SECRET_KEY = "dev-insecure-change-me"
APP_ENVS = ("development", "production")
MIN_SECRET_KEY_LENGTH = 32
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """The configuration cannot run safely (e.g. production with the default secret)."""


def normalise_database_url(url: str) -> str:
    """Accept the common `postgres://` / `postgresql://` spellings and use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def from_environment(instance_path: str) -> dict:
    instance = Path(instance_path)
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'pasar.sqlite3'}"
    max_upload_mb = _int("MAX_UPLOAD_MB", 10)
    env = (os.environ.get("APP_ENV") or os.environ.get("FLASK_ENV") or "development").lower()
    return {
        "APP_ENV": env,
        "SECRET_KEY": os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "MEDIA_ROOT": os.environ.get("MEDIA_ROOT") or str(PROJECT_ROOT / "media"),
        "SEARCH_INDEX_DIR": os.environ.get("SEARCH_INDEX_DIR") or str(instance / "search-index"),
        "MAX_UPLOAD_MB": max_upload_mb,
        # A product form carries at most 8 photos; the per-photo limit is checked by the
        # photo pipeline so that the form can say which photo was too big.
        "MAX_CONTENT_LENGTH": (max_upload_mb * 8 + 2) * 1024 * 1024,
        "MAX_IMAGE_PIXELS": _int("MAX_IMAGE_PIXELS", 50_000_000),
        "MAX_IMAGE_SIDE": _int("MAX_IMAGE_SIDE", 12_000),
        # Image memory one upload may need while it is decoded and resized, judged from its header
        # before decoding (bench/photo_memory.py: the worker's extra peak stays under 150 MB).
        "MAX_DECODE_MB": _int("MAX_DECODE_MB", 100),
        "PENDING_PHOTO_HOURS": _int("PENDING_PHOTO_HOURS", 2),
        # Spreadsheet import (catalog/bulk_import.py): rows a file may have, the size of one upload (the
        # spreadsheet and the ZIP of photos together), what the ZIP may unpack to and how many files it holds.
        "IMPORT_MAX_ROWS": _int("IMPORT_MAX_ROWS", 1000),
        "IMPORT_MAX_UPLOAD_MB": _int("IMPORT_MAX_UPLOAD_MB", 300),
        "IMPORT_MAX_ZIP_MB": _int("IMPORT_MAX_ZIP_MB", 1000),
        "IMPORT_MAX_ZIP_FILES": _int("IMPORT_MAX_ZIP_FILES", 2000),
        # Seconds of photo work in one request (the preview page asks for the next batch by itself).
        "IMPORT_BATCH_SECONDS": _int("IMPORT_BATCH_SECONDS", 5),
        "SEARCH_LOCK_TIMEOUT": float(os.environ.get("SEARCH_LOCK_TIMEOUT") or 10),
        # Where pg_dump/pg_restore live for `flask backup|restore`; empty: Debian's newest
        # /usr/lib/postgresql/*/bin, then the PATH.
        "PG_BIN_DIR": os.environ.get("PG_BIN_DIR", ""),
        "BABEL_DEFAULT_LOCALE": os.environ.get("BABEL_DEFAULT_LOCALE", "id"),
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("BABEL_DEFAULT_TIMEZONE", "Asia/Jakarta"),
        "LANGUAGES": ["id", "en"],
        "LOGIN_MAX_FAILURES": _int("LOGIN_MAX_FAILURES", 5),
        "LOGIN_MAX_FAILURES_PER_IP": _int("LOGIN_MAX_FAILURES_PER_IP", 30),
        "LOGIN_WINDOW_MINUTES": _int("LOGIN_WINDOW_MINUTES", 15),
        "RESET_LINK_HOURS": _int("RESET_LINK_HOURS", 24),
        # Join requests from the public page /titip-produk (joining/services.py), counted in the database.
        "JOIN_WINDOW_HOURS": _int("JOIN_WINDOW_HOURS", 24),
        "JOIN_MAX_PER_ADDRESS": _int("JOIN_MAX_PER_ADDRESS", 5),
        "JOIN_MAX_PER_NUMBER": _int("JOIN_MAX_PER_NUMBER", 2),
        # Photos kept for visitors after a failed join form, per client address within the window.
        "JOIN_MAX_KEPT_PHOTOS": _int("JOIN_MAX_KEPT_PHOTOS", 10),
        "PASSWORD_HASH_METHOD": os.environ.get("PASSWORD_HASH_METHOD", "scrypt"),
        "MIDTRANS_SERVER_KEY": os.environ.get("MIDTRANS_SERVER_KEY", ""),
        "MIDTRANS_CLIENT_KEY": os.environ.get("MIDTRANS_CLIENT_KEY", ""),
        "MIDTRANS_IS_PRODUCTION": os.environ.get("MIDTRANS_IS_PRODUCTION", "").lower() in ("1", "true", "yes"),
        "MIDTRANS_SNAP_BASE_URL": os.environ.get("MIDTRANS_SNAP_BASE_URL") or None,
        "MIDTRANS_API_BASE_URL": os.environ.get("MIDTRANS_API_BASE_URL") or None,
        "MIDTRANS_TIMEOUT": float(os.environ.get("MIDTRANS_TIMEOUT") or 10),
        "ORDER_PAYMENT_MINUTES": _int("ORDER_PAYMENT_MINUTES", 60),
        # Dynamic QRIS at the counter (qris/): on when MIDTRANS_SERVER_KEY is set, unless QRIS_DYNAMIC=false.
        "QRIS_DYNAMIC": os.environ.get("QRIS_DYNAMIC", "true").lower() not in ("0", "false", "no"),
        "QRIS_EXPIRY_MINUTES": _int("QRIS_EXPIRY_MINUTES", 15),
        # WhatsApp Business Cloud API (notifications/): without a token and a phone number id, messages go
        # to staff's "Messages to send" list (one tap on wa.me each) instead.
        "WHATSAPP_TOKEN": os.environ.get("WHATSAPP_TOKEN", ""),
        "WHATSAPP_PHONE_NUMBER_ID": os.environ.get("WHATSAPP_PHONE_NUMBER_ID", ""),
        "WHATSAPP_API_BASE_URL": (os.environ.get("WHATSAPP_API_BASE_URL") or "https://graph.facebook.com").rstrip("/"),
        "WHATSAPP_API_VERSION": os.environ.get("WHATSAPP_API_VERSION") or "v21.0",
        "WHATSAPP_VERIFY_TOKEN": os.environ.get("WHATSAPP_VERIFY_TOKEN", ""),
        "WHATSAPP_APP_SECRET": os.environ.get("WHATSAPP_APP_SECRET", ""),
        "WHATSAPP_TIMEOUT": float(os.environ.get("WHATSAPP_TIMEOUT") or 10),
        # After a send whose answer was lost, wait this long for its webhook before trying again.
        "WHATSAPP_RECHECK_SECONDS": _int("WHATSAPP_RECHECK_SECONDS", 300),
        "NOTIFY_MAX_ATTEMPTS": _int("NOTIFY_MAX_ATTEMPTS", 6),
        "NOTIFY_RETRY_BASE_SECONDS": _int("NOTIFY_RETRY_BASE_SECONDS", 30),
        "NOTIFY_AGING_DAYS": _int("NOTIFY_AGING_DAYS", 30),  # goods on the shelf longer: "please collect"
        "GERAI_RESERVATION_HOURS": _int("GERAI_RESERVATION_HOURS", 48),
        # What one shopper may hold with unpaid orders (orders/limits.py): nobody can lock the shelf.
        "GERAI_CONFIRM_HOURS": _int("GERAI_CONFIRM_HOURS", 6),  # pay-at-gerai hold until the gerai confirms
        "ORDER_MAX_PER_PRODUCT": _int("ORDER_MAX_PER_PRODUCT", 10),  # units of one product in one order
        "ORDER_HOLD_SHARE_PERCENT": _int("ORDER_HOLD_SHARE_PERCENT", 25),  # of a product, for unconfirmed orders
        "ORDER_HOLD_MIN_UNITS": _int("ORDER_HOLD_MIN_UNITS", 2),  # ... but always this many
        "ORDER_MAX_OPEN_PER_PHONE": _int("ORDER_MAX_OPEN_PER_PHONE", 3),
        "ORDER_MAX_OPEN_PER_ADDRESS": _int("ORDER_MAX_OPEN_PER_ADDRESS", 3),
        "CHECKOUT_MAX_PER_IP": _int("CHECKOUT_MAX_PER_IP", 10),
        "CHECKOUT_WINDOW_MINUTES": _int("CHECKOUT_WINDOW_MINUTES", 60),
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "").rstrip("/"),
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host headers are trusted
        # (1 behind one nginx). 0 trusts none: the headers could be forged by anyone.
        "PROXY_HOPS": _int("PROXY_HOPS", 0),
        "PAGE_CACHE_SECONDS": float(os.environ.get("PAGE_CACHE_SECONDS") or 10),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env == "production",
        "REMEMBER_COOKIE_SECURE": env == "production",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # Host names this site answers to (comma-separated, e.g. "pasar.koperasi.id,www.pasar.koperasi.id");
        # a request for any other Host gets 400. Empty: any host (set PUBLIC_BASE_URL then).
        "TRUSTED_HOSTS": [h.strip() for h in os.environ.get("TRUSTED_HOSTS", "").split(",") if h.strip()] or None,
        "WTF_CSRF_TIME_LIMIT": None,
    }


def check_production_safety(config: dict) -> None:
    env = config.get("APP_ENV")
    if env not in APP_ENVS:  # a typo such as "prod" must not quietly run as development
        raise ConfigError(f"Refusing to start: APP_ENV (or FLASK_ENV) is {env!r}; use one of {', '.join(APP_ENVS)}.")
    if env != "production":
        return
    secret = config.get("SECRET_KEY") or ""
    if secret == DEFAULT_SECRET_KEY or not secret:
        raise ConfigError(
            "Refusing to start in production with the default SECRET_KEY. "
            "Set SECRET_KEY to a long random value."
        )
    if len(secret) < MIN_SECRET_KEY_LENGTH:
        raise ConfigError(
            f"Refusing to start in production with a SECRET_KEY of {len(secret)} characters; "
            f"use at least {MIN_SECRET_KEY_LENGTH}, e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(48))'."
        )
