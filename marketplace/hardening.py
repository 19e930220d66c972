"""HTTP-level defences every response and request gets: security headers (Content-Security-Policy, HSTS in
production), and a JSON parser that answers 400 to a body nested too deep instead of crashing with 500."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app
from flask.json.provider import DefaultJSONProvider

# Midtrans Snap's payment pages: the checkout form's answer redirects there, and CSP's form-action
# also governs where a form submission may be redirected.
MIDTRANS_SNAP_ORIGINS = ("https://app.midtrans.com", "https://app.sandbox.midtrans.com")
# WhatsApp: staff's "send" button (a POST marking the message sent) redirects to wa.me, which goes on to
# api.whatsapp.com.
WHATSAPP_ORIGINS = ("https://wa.me", "https://api.whatsapp.com")
HSTS_SECONDS = 365 * 24 * 3600


class DepthSafeJSONProvider(DefaultJSONProvider):
    """`json.loads` raises RecursionError on a body like `[[[[…` 100 000 deep; as a ValueError it becomes
    Flask's ordinary "bad JSON" path: 400 from `request.get_json()`, None from `get_json(silent=True)`."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


def _origin(url: str | None) -> str | None:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def content_security_policy() -> str:
    """No inline script anywhere (scripts are files under /static; JSON-LD is data, not script).
    Inline styles stay allowed: the print pages carry their own <style>."""
    snap = [*MIDTRANS_SNAP_ORIGINS]
    configured = _origin(current_app.config.get("MIDTRANS_SNAP_BASE_URL"))
    if configured and configured not in snap:
        snap.append(configured)
    return "; ".join((
        "default-src 'self'",
        "img-src 'self' data: blob:",  # blob: the photo shrinker draws the chosen photo before upload
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'self'",
        "form-action 'self' " + " ".join(snap + list(WHATSAPP_ORIGINS)),
    ))


def _security_headers(response):
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    headers.setdefault("Content-Security-Policy", content_security_policy())
    if current_app.config["APP_ENV"] == "production":  # served over https behind the proxy
        headers.setdefault("Strict-Transport-Security", f"max-age={HSTS_SECONDS}")
    return response


def init_app(app: Flask) -> None:
    app.json = DepthSafeJSONProvider(app)
    app.after_request(_security_headers)
