"""A short-lived cache of rendered public pages for anonymous visitors.

Most storefront traffic is people without an account or a cart; rendering the same catalogue page for
each of them is the largest cost per request (bench/). A page is cached per worker process for
PAGE_CACHE_SECONDS (10 s by default; 0 turns it off), keyed by scheme, host, path, query and language. It is
bypassed for anyone signed in, anyone with a cart or a pending message, and for anything but a 200.

Forms stay CSRF-protected: while a cacheable page renders, `csrf_token()` writes a placeholder, and the
placeholder is replaced with the visitor's own token every time the page is served.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from functools import wraps

from flask import Response, current_app, g, make_response, request, session
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

CSRF_PLACEHOLDER = "__csrf_token_placeholder__"
MAX_ENTRIES = 2000


class _Cache:
    def __init__(self):
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            entry = self._data.get(key)
            if entry is None or entry[0] < time.monotonic():
                self._data.pop(key, None)
                return None
            self._data.move_to_end(key)
            return entry[1]

    def set(self, key, value, ttl: float):
        with self._lock:
            self._data[key] = (time.monotonic() + ttl, value)
            self._data.move_to_end(key)
            while len(self._data) > MAX_ENTRIES:
                self._data.popitem(last=False)

    def clear(self):
        with self._lock:
            self._data.clear()


cache = _Cache()


def csrf_token_for_templates() -> str:
    return CSRF_PLACEHOLDER if g.get("page_cache_rendering") else generate_csrf()


def _personal() -> bool:
    return bool(current_user.is_authenticated or session.get("cart") or session.get("_flashes"))


def _serve(body: str, mimetype: str, state: str) -> Response:
    if CSRF_PLACEHOLDER in body:
        body = body.replace(CSRF_PLACEHOLDER, generate_csrf())
    response = Response(body, mimetype=mimetype)
    response.headers["X-Cache"] = state
    return response


def cached_page(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        ttl = current_app.config.get("PAGE_CACHE_SECONDS", 0)
        if not ttl or request.method != "GET" or _personal():
            return view(*args, **kwargs)
        # The scheme and host are part of the key: without PUBLIC_BASE_URL, absolute links are built from
        # them, and a page rendered for a forged `Host: evil.example` must never be served to anyone else.
        key = (request.scheme, request.host, request.full_path, str(get_locale()))
        hit = cache.get(key)
        if hit is not None:
            return _serve(hit[0], hit[1], "hit")
        g.page_cache_rendering = True
        try:
            response = make_response(view(*args, **kwargs))
        finally:
            g.page_cache_rendering = False
        real_token_rendered = "csrf_token" in g  # e.g. form.hidden_tag(): that page is personal
        if (response.status_code != 200 or response.direct_passthrough or "Set-Cookie" in response.headers
                or real_token_rendered):
            body = response.get_data(as_text=True)
            if CSRF_PLACEHOLDER in body:
                response.set_data(body.replace(CSRF_PLACEHOLDER, generate_csrf()))
            return response
        body = response.get_data(as_text=True)
        cache.set(key, (body, response.mimetype), ttl)
        return _serve(body, response.mimetype, "miss")

    return wrapper
