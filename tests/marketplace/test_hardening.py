"""HTTP-level defences: Content-Security-Policy, HSTS in production, and JSON too deep for the parser."""
import re
from pathlib import Path

import pytest

from marketplace import create_app

ROOT = Path(__file__).resolve().parents[2]
LONG_SECRET = "a-long-random-secret-for-this-test-0123456789"


def test_every_page_forbids_inline_script_and_framing_by_other_sites(client):
    for url in ("/", "/masuk", "/produk", "/healthz", "/static/style.css"):
        policy = client.get(url).headers.get("Content-Security-Policy", "")
        directives = dict((d.split(" ", 1) + [""])[:2] for d in policy.split("; "))
        assert directives["script-src"] == "'self'", url
        assert "'unsafe-inline'" not in directives["script-src"] and "default-src" in directives
        assert directives["frame-ancestors"] == "'self'" and directives["base-uri"] == "'self'"
        assert directives["form-action"].startswith("'self'") and "https://app.midtrans.com" in directives["form-action"]


def test_no_template_carries_inline_script_or_event_handler_attributes():
    offenders = []
    for template in ROOT.glob("*/templates/**/*.html"):
        text = template.read_text()
        for match in re.finditer(r"<script(?![^>]*\bsrc=)([^>]*)>", text):
            if 'type="application/ld+json"' not in match.group(1):  # JSON-LD is data, never run
                offenders.append(f"{template.relative_to(ROOT)}: inline <script>")
        if re.search(r"<[^>]+\son[a-z]+\s*=", text):
            offenders.append(f"{template.relative_to(ROOT)}: on...= handler")
        if "javascript:" in text:
            offenders.append(f"{template.relative_to(ROOT)}: javascript: URL")
    assert offenders == []


def test_hsts_is_sent_in_production_only(app_config, monkeypatch):
    development = create_app(app_config).test_client().get("/healthz")
    assert "Strict-Transport-Security" not in development.headers
    monkeypatch.setenv("APP_ENV", "production")
    production = create_app({**app_config, "SECRET_KEY": LONG_SECRET}).test_client().get("/healthz")
    assert production.headers["Strict-Transport-Security"].startswith("max-age=31536000")


@pytest.mark.parametrize("body", ["[" * 100_000, '{"a":' * 100_000])
def test_json_nested_100k_deep_is_a_bad_request_not_a_crash(client, body):
    response = client.post("/payments/midtrans/notification", data=body, content_type="application/json")
    assert response.status_code == 400


def test_json_too_deep_is_400_for_every_json_reader(app):
    from flask import request

    @app.post("/_test/json")
    def echo():
        return {"got": type(request.get_json()).__name__}

    client = app.test_client()
    assert client.post("/_test/json", data="[" * 100_000, content_type="application/json").status_code == 400
    assert client.post("/_test/json", json={"a": [1, [2]]}).json == {"got": "dict"}
