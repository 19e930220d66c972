"""The mixed workload at 2 gunicorn workers, side by side with bare Flask and the cached-only page in
the same run, the uncached home and listing pages against bare Flask, and peak RSS per worker after it.

    python -m bench.mixed --size large        # on a throw-away copy of the generated data (checkouts write)

wrk drives the load with bench/mixed.lua (its data tables are written above the script): 70 % anonymous
storefront over 200 search words and random product pages, 20 % member pages, 10 % POS scans, searches
and checkouts (each checkout sends the one-time key of a POS form the same wrk thread rendered).
"""
from __future__ import annotations

import argparse
import http.client
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote_plus, urlsplit

from . import generate
from .run import Row, _app_env, _wrk, db_copy, gunicorn, render

PASSWORD = "bench12345"
MEMBER_PAGES = ["/gerai/saya", "/saya/saldo", "/kelola/produk"]
SECONDS = 20


def search_words(n: int = 200) -> list[str]:
    """200 distinct searches a shopper might type: words of the product names, pairs of them, misspellings."""
    vocabulary = []
    for text in generate.FOODS + generate.CRAFTS + generate.VARIANTS:
        for word in text.lower().replace("&", " ").split():
            if len(word) >= 3 and word not in vocabulary:
                vocabulary.append(word)
    rng = random.Random(7)
    words = list(vocabulary)
    while len(words) < n:
        a, b = rng.sample(vocabulary, 2)
        candidate = f"{a} {b}" if rng.random() < 0.7 else a[:-1] if len(a) > 4 else a + "h"
        if candidate not in words:
            words.append(candidate)
    return words[:n]


class Browser:
    """A minimal cookie-keeping HTTP client: the app's cookies are Secure in production, over plain HTTP here."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        self.host, self.port, self.cookies = parts.hostname, parts.port, {}

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, str]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        headers = {"Cookie": self.cookie()} if self.cookies else {}
        data = None
        if body is not None:
            data = "&".join(f"{k}={quote_plus(str(v))}" for k, v in body.items())
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        text = response.read().decode("utf-8", "replace")
        conn.close()
        return response.status, text

    def cookie(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def csrf(self, path: str) -> str:
        status, text = self.request("GET", path)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text)
        if status != 200 or not match:
            raise RuntimeError(f"no CSRF token on {path}: HTTP {status}")
        return match.group(1)

    def sign_in(self, email: str) -> "Browser":
        token = self.csrf("/masuk")
        status, _ = self.request("POST", "/masuk", {"csrf_token": token, "identifier": email, "password": PASSWORD})
        if status != 302:
            raise RuntimeError(f"could not sign in as {email}: HTTP {status}")
        return self


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid Lua string literal for this data (ASCII, no escapes beyond \")


def _prepare(directory: Path, kasirs: int) -> dict:
    """Product slugs, lot codes with stock, and extra kasir accounts (one POS cart each) in the copy."""
    from sqlalchemy import func, select

    from catalog.models import Product
    from consignment.models import ConsignmentLot, StockMovement
    from marketplace.accounts import create_user
    from marketplace.extensions import db

    app = generate.app_for(directory)
    with app.app_context():
        rng = random.Random(11)
        slugs = db.session.scalars(select(Product.slug).where(Product.status == "published")).all()
        on_hand = (select(StockMovement.lot_id).group_by(StockMovement.lot_id)
                   .having(func.sum(StockMovement.quantity) >= 4).limit(3000).subquery())
        codes = db.session.scalars(select(ConsignmentLot.code).join(on_hand, on_hand.c.lot_id == ConsignmentLot.id)).all()
        emails = []
        for i in range(kasirs):
            email = f"kasir{i + 1}.mixed@bench.id"
            create_user(name=f"Kasir Mixed {i + 1}", email=email, password=PASSWORD, role="kasir")
            emails.append(email)
        db.session.remove()
        db.engine.dispose()
    return {"slugs": rng.sample(slugs, min(5000, len(slugs))), "codes": codes, "kasirs": emails}


def _sales_by(directory: Path, emails: list[str]) -> int:
    """Counter sales the mixed workload's kasirs recorded, as the database says."""
    from sqlalchemy import func, select

    from consignment.models import Sale
    from marketplace.extensions import db
    from marketplace.models import User

    app = generate.app_for(directory)
    with app.app_context():
        count = db.session.scalar(select(func.count(Sale.id)).join(User, User.id == Sale.cashier_id)
                                  .where(User.email.in_(emails)))
        db.session.remove()
        db.engine.dispose()
    return count


def _script(tmp: Path, url: str, data: dict) -> Path:
    members = [Browser(url).sign_in(f"umkm{i}@bench.id").cookie() for i in range(1, 9)]
    kasirs = []
    for email in data["kasirs"]:
        browser = Browser(url).sign_in(email)
        token = browser.csrf("/gerai/kasir")
        kasirs.append({"cookie": browser.cookie(), "csrf": quote_plus(token)})

    def table(values):
        return "{" + ",".join(_lua_string(v) for v in values) + "}"

    head = "\n".join([
        "words = " + table(quote_plus(w) for w in search_words()),
        "slugs = " + table(data["slugs"]),
        "codes = " + table(data["codes"]),
        "member_pages = " + table(MEMBER_PAGES),
        "members = " + table(members),
        "kasirs = {" + ",".join("{cookie=%s, csrf=%s}" % (_lua_string(k["cookie"]), _lua_string(k["csrf"]))
                                for k in kasirs) + "}",
    ])
    script = tmp / "mixed.lua"
    script.write_text(head + "\n" + (generate.ROOT / "bench" / "mixed.lua").read_text())
    return script


def _wrk_script(url: str, script: Path, seconds: int) -> dict:
    out = subprocess.run(["wrk", "-t2", "-c8", f"-d{seconds}s", "--timeout", "60s", "--latency", "-s", str(script), url],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _peak_rss_mb(master_pid: int) -> list[float]:
    """VmHWM (peak resident set) of each gunicorn worker of `master_pid`."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    peaks = []
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return peaks


def _fmt(r: dict) -> str:
    return f"{r['rps']:.0f} req/s, p50 {r['p50']:.1f} / p95 {r['p95']:.1f} ms"


def bench_mixed(directory: Path, seconds: int = SECONDS) -> list[Row]:
    if not shutil.which("wrk"):
        return [Row("mixed workload", "wrk is not installed", "—", "—", "—", "≥ 0.05× bare, p95 ≤ 50 ms", None)]
    rows = []
    with gunicorn("bench.bare_app:app", {}) as bare_url:
        bare = _wrk(bare_url + "/", seconds)
    bare_text = f"bare Flask {bare['rps']:.0f} req/s, p95 {bare['p95']:.1f} ms"
    with db_copy(directory) as tmp:
        data = _prepare(tmp, kasirs=2)
        # Uncached home and listing pages: every request renders.
        with gunicorn("wsgi:app", {**_app_env(tmp), "PAGE_CACHE_SECONDS": "0"}) as url:
            for path in ("/", "/produk"):
                r = _wrk(url + path, seconds)
                ratio = r["rps"] / bare["rps"]
                rows.append(Row("storefront uncached (gunicorn, 2 workers)", f"{path} — page cache off", _fmt(r),
                                bare_text, f"{ratio:.3f}×", "≥ 0.25× bare", ratio >= 0.25))
        procs: list = []
        with gunicorn("wsgi:app", _app_env(tmp), procs=procs) as url:
            cached = _wrk(url + "/produk", seconds)
            rows.append(Row("mixed workload baseline", "/produk — page cache on (cached only)", _fmt(cached), bare_text,
                            f"{cached['rps'] / bare['rps']:.3f}×", "—", None))
            script = _script(Path(tempfile.mkdtemp(prefix="pasar-mixed-", dir=tmp)), url, data)
            mixed = _wrk_script(url, script, seconds)
            peaks = _peak_rss_mb(procs[0].pid)
        recorded = _sales_by(tmp, data["kasirs"])
        ratio = mixed["rps"] / bare["rps"]
        sent = sum(mixed[k] for k in ("anonymous", "member", "scans", "pos_searches", "checkouts"))
        detail = (f"{mixed['requests']:,} requests answered of {sent:,} sent: {mixed['anonymous']:,} anonymous, {mixed['member']:,} member, "
                  f"{mixed['scans']:,} scans, {mixed['pos_searches']:,} POS searches, {mixed['checkouts']:,} checkouts "
                  f"({mixed['checkouts_ok']:,} answered with a receipt; {recorded:,} sales in the database); HTTP 2xx {mixed['http_2xx']:,} / 3xx {mixed['http_3xx']:,} "
                  f"/ 4xx {mixed['http_4xx']:,} / 5xx {mixed['http_5xx']:,}; socket errors {mixed['errors']}")
        rows.append(Row("mixed workload (gunicorn, 2 workers, 8 connections)",
                        f"70 % storefront / 20 % member / 10 % POS at '{directory.name}' — {detail}",
                        _fmt(mixed) + f", p99 {mixed['p99']:.1f} ms", bare_text + f"; cached /produk {cached['rps']:.0f} req/s",
                        f"{ratio:.3f}×", "≥ 0.05× bare and p95 ≤ 50 ms", ratio >= 0.05 and mixed["p95"] <= 50))
        rows.append(Row("memory", "peak RSS per gunicorn worker after the mixed workload",
                        ", ".join(f"{p:.0f} MB" for p in peaks), "—", "—", "—", None))
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="default", choices=sorted(generate.SIZES))
    parser.add_argument("--seconds", type=int, default=SECONDS)
    args = parser.parse_args(argv)
    rows = bench_mixed(generate.build(args.size), args.seconds)
    text = render(rows, f"Mixed workload at '{args.size}' ({args.seconds} s per row)")
    print(text)
    (generate.ROOT / "bench" / "results" / f"mixed-{args.size}.md").write_text(text + "\n")


if __name__ == "__main__":
    sys.exit(main())
