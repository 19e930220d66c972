"""The counter over HTTP (gunicorn, 2 workers, production settings with CSRF on): scan-to-line and checkout
p95 with the default data's sale lines in the ledger, and syncing 500 sales queued offline against 500 online
checkouts in the same run.

    python -m bench.counter            # default data (200k sale lines)
    python -m bench.counter --size small
"""
from __future__ import annotations

import argparse
import http.cookiejar
import json
import re
import time
import urllib.parse
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

from . import generate
from .run import Row, _app_env, db_copy, gunicorn, ms, pct

SYNC_SALES = 500
BATCH = 50  # what pos-offline.js sends per request


class _PlainHttpPolicy(http.cookiejar.DefaultCookiePolicy):
    def return_ok_secure(self, cookie, request):  # production cookies are Secure; the bench talks plain http
        return True


class Browser:
    """Just enough of a browser: cookies, forms with their CSRF token, redirects followed."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(
            http.cookiejar.CookieJar(policy=_PlainHttpPolicy())))

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path) as r:
            return r.read().decode()

    def post(self, path: str, data: dict | None = None, json_body=None, headers: dict | None = None) -> str:
        if json_body is not None:
            body, kind = json.dumps(json_body).encode(), "application/json"
        else:
            body, kind = urllib.parse.urlencode(data or {}).encode(), "application/x-www-form-urlencoded"
        request = urllib.request.Request(self.base + path, data=body, headers={"Content-Type": kind, **(headers or {})})
        with self.opener.open(request) as r:
            return r.read().decode()

    @staticmethod
    def field(html: str, name: str) -> str:
        m = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or re.search(rf'value="([^"]*)"[^>]*name="{name}"', html)
        return m.group(1) if m else ""

    def sign_in(self, email: str, password: str) -> None:
        page = self.get("/masuk")
        self.post("/masuk", {"csrf_token": self.field(page, "csrf_token"), "identifier": email, "password": password})


def _sellable(directory: Path, need: int) -> tuple[list[str], int, str]:
    """Label codes to sell (one per unit), the ledger's sale lines, and the bench kasir's offline token."""
    from sqlalchemy import func, select

    from consignment import offline
    from consignment.models import ConsignmentLot, SaleLine
    from marketplace.accounts import find_user
    from marketplace.extensions import db

    app = generate.app_for(directory)
    app.config["SECRET_KEY"] = _app_env(directory)["SECRET_KEY"]
    with app.app_context():
        codes = []  # one entry per unit to sell, at most 4 from a lot, never more than it has
        for code, qty in db.session.execute(select(ConsignmentLot.code, ConsignmentLot.on_hand)
                                            .where(ConsignmentLot.on_hand >= 1).order_by(ConsignmentLot.id)):
            codes += [code] * min(int(qty), 4)
            if len(codes) >= need:
                break
        lines = db.session.scalar(select(func.count(SaleLine.id)))
        token = offline.kasir_token(find_user("kasir@bench.id"))
        db.session.remove()
        db.engine.dispose()
    return codes, lines, token


def _offline_sales(directory: Path) -> int:
    """Sales recorded from the offline queue, as the database says (read on its own connection)."""
    import sqlite3

    url = generate.database_url_for(directory)
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            return conn.execute("SELECT count(*) FROM sales WHERE channel = 'offline'").fetchone()[0]
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM sales WHERE channel = 'offline'")).scalar_one()
    finally:
        engine.dispose()


def bench_counter(directory: Path) -> list[Row]:
    with db_copy(directory) as tmp:
        codes, lines, token = _sellable(tmp, 3 * 60 + SYNC_SALES * 2 + 20)
        with gunicorn("wsgi:app", _app_env(tmp)) as url:
            kasir = Browser(url)
            kasir.sign_in("kasir@bench.id", "bench12345")
            csrf = Browser.field(kasir.get("/gerai/kasir"), "csrf_token")
            scans, checkouts = [], []
            pool = iter(codes)
            for i in range(60 + 5):  # a 3-line sale: three scans, then Catat penjualan (first 5 warm up)
                for _ in range(3):
                    started = time.perf_counter()
                    kasir.post("/gerai/kasir/tambah", {"csrf_token": csrf, "kode": next(pool)})  # + the page it shows
                    if i >= 5:
                        scans.append(time.perf_counter() - started)
                page = kasir.get("/gerai/kasir")
                form = {name: Browser.field(page, name) for name in ("csrf_token", "once", "expected_total")}
                started = time.perf_counter()
                receipt = kasir.post("/gerai/kasir/bayar", {**form, "payment_method": "cash", "cash_received": ""})
                if i >= 5:
                    checkouts.append(time.perf_counter() - started)
                assert "J" in receipt

            # 500 online checkouts of one line each (scan, open the page, record), as the kasir does them
            started = time.perf_counter()
            for _ in range(SYNC_SALES):
                kasir.post("/gerai/kasir/tambah", {"csrf_token": csrf, "kode": next(pool)})
                page = kasir.get("/gerai/kasir")
                kasir.post("/gerai/kasir/bayar", {**{n: Browser.field(page, n) for n in ("csrf_token", "once",
                                                                                            "expected_total")},
                                                   "payment_method": "cash", "cash_received": ""})
            online = time.perf_counter() - started

            # 500 one-line sales queued offline, synced as pos-offline.js does (snapshot for a fresh token, batches)
            from marketplace.timeutil import utcnow

            when = utcnow() - timedelta(hours=1)
            queued = [{"uuid": str(uuid.uuid4()), "token": token, "cash_received": None,
                       "sold_at": (when + timedelta(seconds=i)).isoformat() + "Z",
                       "lines": [{"code": next(pool), "quantity": 1}]} for i in range(SYNC_SALES)]
            started = time.perf_counter()
            snap = json.loads(kasir.get("/gerai/kasir/stok.json"))
            recorded = 0
            for b in range(0, SYNC_SALES, BATCH):
                answer = json.loads(kasir.post("/gerai/kasir/sinkron", json_body={"sales": queued[b:b + BATCH]},
                                               headers={"X-CSRFToken": snap["csrf"]}))
                recorded += sum(1 for r in answer["results"] if r["status"] == "recorded")
            synced = time.perf_counter() - started
            assert recorded == SYNC_SALES, recorded
            before_replay = _offline_sales(tmp)
            replay_started = time.perf_counter()
            again = json.loads(kasir.post("/gerai/kasir/sinkron", json_body={"sales": queued[:BATCH]},
                                          headers={"X-CSRFToken": snap["csrf"]}))
            replay = time.perf_counter() - replay_started
            assert all(r["status"] == "recorded" for r in again["results"])
            after_replay = _offline_sales(tmp)
    p95_scan, p95_checkout = pct(scans, 95), pct(checkouts, 95)
    return [
        Row("counter over HTTP (gunicorn, 2 workers)", f"scan-to-line p50 / p95 with {lines:,} sale lines",
            f"{ms(pct(scans, 50))} / {ms(p95_scan)}", "—", "—", "p95 ≤ 150 ms", p95_scan <= 0.150),
        Row("counter over HTTP (gunicorn, 2 workers)", f"checkout (3 lines) p50 / p95 with {lines:,} sale lines",
            f"{ms(pct(checkouts, 50))} / {ms(p95_checkout)}", "—", "—", "p95 ≤ 250 ms", p95_checkout <= 0.250),
        Row("offline sync", f"{SYNC_SALES} queued sales in batches of {BATCH} (incl. snapshot of "
                            f"{len(snap['lots']):,} lots)", f"{synced:.2f} s, {ms(synced / SYNC_SALES)} per sale",
            f"{SYNC_SALES} online checkouts {online:.2f} s, {ms(online / SYNC_SALES)} per sale",
            f"{synced / online:.2f}×", "≤ 1× the online checkouts", synced <= online),
        Row("offline sync", f"re-sending {BATCH} already recorded sales (a lost response)",
            f"{ms(replay)}; offline sales in the database {before_replay:,} before, {after_replay:,} after",
            "—", "—", "changes nothing", after_replay == before_replay),
    ]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=sorted(generate.SIZES), default="default")
    args = parser.parse_args(argv)
    rows = bench_counter(generate.build(args.size))
    head = ["area", "measure", "value", "baseline", "ratio", "target", "status"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in row.cells()) + " |" for row in rows]
    text = "\n".join(lines)
    print(text)
    out = generate.ROOT / "bench" / "results" / f"counter-{args.size}.md"
    out.write_text(f"# The counter over HTTP ({args.size} data)\n\n{text}\n")


if __name__ == "__main__":
    main()
