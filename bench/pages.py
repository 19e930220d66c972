"""The per-page table: signed-in and uncached pages, single requests through the app's test client, at
several data sizes side by side, on SQLite (`make bench`) or PostgreSQL (`make bench-pg`).

    python -m bench.pages                              # small, default and large on SQLite
    python -m bench.pages --sizes small,default        # a quicker run
    python -m bench.pages --only saya,kasir            # some pages only (keys: see PAGES)
    python -m bench.pages --pg                         # the same data generated into PostgreSQL

Each page is requested once to warm up, then repeatedly (at least 3 and at most 100 times, about 4 s
per page and size; a page whose warm-up took over 3 s is timed once more, shown as n=1); p50/p95 are
of those single requests. SQL statements and SQL time are counted
with SQLAlchemy cursor events around each request. Targets are issue 10's.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from . import generate

PASSWORD = "bench12345"
USERS = {"member": "umkm1@bench.id", "kasir": "kasir@bench.id", "pengurus": "pengurus@bench.id"}
PAGE_TARGET_MS, REPORT_TARGET_MS, RATIO_TARGET = 50.0, 100.0, 1.5
SLOW_SECONDS = 3.0
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://pasar:pasar@127.0.0.1:54329/pasar_bench")


@dataclass(frozen=True)
class Page:
    key: str
    who: str  # member, kasir, pengurus or anonymous
    path: str  # may contain {draft}, {month_start}, {today}
    report: bool = False

    def url(self, context: dict) -> str:
        return self.path.format(**context)


PAGES = [
    Page("saya", "member", "/gerai/saya"),
    Page("saldo", "member", "/saya/saldo"),
    Page("kelola", "member", "/kelola/produk"),
    Page("kasir", "kasir", "/gerai/kasir?cari=keripik"),
    Page("penjualan", "kasir", "/gerai/penjualan"),
    Page("pesanan", "kasir", "/gerai/pesanan"),
    Page("umur", "pengurus", "/gerai/laporan/umur", report=True),
    Page("stok", "pengurus", "/gerai/laporan/stok", report=True),
    Page("laporan", "pengurus", "/gerai/laporan/penjualan?dari={month_start}&sampai={today}", report=True),
    Page("penyelesaian", "pengurus", "/penyelesaian/{draft}"),
    Page("dasbor", "pengurus", "/gerai/"),
    Page("audit", "pengurus", "/admin/audit"),
    Page("transparansi", "anonymous", "/transparansi"),
    Page("beranda", "anonymous", "/"),
    Page("produk", "anonymous", "/produk"),
]


@dataclass
class Measure:
    times: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)
    sql: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    status: int = 200
    html_bytes: int = 0

    def p(self, q: float) -> float:
        values = sorted(self.times)
        return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]

    def cell(self) -> str:
        if self.status != 200:
            return f"HTTP {self.status}"
        n = "" if len(self.times) >= 3 else f" (n={len(self.times)})"
        return (f"{self.p(50) * 1000:.1f} / {self.p(95) * 1000:.1f} ms{n} · {statistics.median(self.statements):.0f} q · "
                f"SQL {statistics.median(self.sql) * 1000:.1f} ms · CPU {statistics.median(self.cpu) * 1000:.0f} ms")


class SqlCounter:
    """Counts statements and their time on an engine (PRAGMA/SAVEPOINT/RELEASE not counted)."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.count, self.seconds, self._started = 0, 0.0, []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, *args):
        self._started.append((time.perf_counter(), statement.lstrip()[:9].upper()))

    def _after(self, conn, cursor, statement, *args):
        started, head = self._started.pop()
        if not head.startswith(("PRAGMA", "SAVEPOINT", "RELEASE")):
            self.count += 1
            self.seconds += time.perf_counter() - started

    def reset(self):
        self.count, self.seconds = 0, 0.0


def _context(app) -> dict:
    from sqlalchemy import select

    from marketplace.extensions import db
    from marketplace.timeutil import local_today
    from settlement.models import SettlementPeriod

    with app.app_context():
        draft = db.session.scalar(select(SettlementPeriod.id).where(SettlementPeriod.status == "draft"))
    today = local_today()
    return {"draft": draft, "today": today.isoformat(), "month_start": (today - timedelta(days=29)).isoformat()}


def _client(app, who: str):
    client = app.test_client()
    if who != "anonymous":
        response = client.post("/masuk", data={"identifier": USERS[who], "password": PASSWORD})
        if response.status_code != 302:
            raise RuntimeError(f"could not sign in as {USERS[who]}: HTTP {response.status_code}")
    return client


def measure_size(directory: Path, pages: list[Page], budget: float = 4.0, max_n: int = 100) -> dict[str, Measure]:
    from marketplace.extensions import db

    app = generate.app_for(directory)
    app.config.update(PAGE_CACHE_SECONDS=0, WTF_CSRF_ENABLED=False)
    context = _context(app)
    with app.app_context():
        counter = SqlCounter(db.engine)
    clients = {who: _client(app, who) for who in {p.who for p in pages}}
    results = {}
    for page in pages:
        client, url, m = clients[page.who], page.url(context), Measure()
        t0 = time.perf_counter()
        response = client.get(url)  # warm: caches, the search index, SQLite's pages
        warm = time.perf_counter() - t0
        m.status, m.html_bytes = response.status_code, len(response.data)
        min_n = 3 if warm < SLOW_SECONDS else 1  # a page of many seconds: one timed request says enough
        started = time.perf_counter()
        while m.status == 200 and len(m.times) < max_n and (len(m.times) < min_n or time.perf_counter() - started < budget):
            counter.reset()
            t0, c0 = time.perf_counter(), time.process_time()
            response = client.get(url)
            m.times.append(time.perf_counter() - t0)
            m.cpu.append(time.process_time() - c0)
            m.statements.append(counter.count)
            m.sql.append(counter.seconds)
            m.status = response.status_code
        results[page.key] = m
        print(f"  {directory.name:>10} {url:<60} {m.cell()}", file=sys.stderr)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return results


def pg_url(size: str) -> str:
    """The PostgreSQL database of one data size (created when missing: the role may create databases)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(PG_URL)
    url = url.set(database=f"{url.database}_{size}")
    engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}):
            conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    engine.dispose()
    return url.render_as_string(hide_password=False)


def run(sizes: list[str], only: set[str], postgres: bool = False) -> tuple[str, dict]:
    pages = [p for p in PAGES if not only or p.key in only]
    results, generation = {}, {}
    for size in sizes:
        started = time.perf_counter()
        directory = generate.build(size, database_url=pg_url(size) if postgres else None)
        generation[size] = (time.perf_counter() - started, generate.generation_seconds(directory))
        results[size] = measure_size(directory, pages)
    return render(pages, sizes, results, generation, postgres), results


def _judge(page: Page, sizes: list[str], results: dict) -> tuple[str, str, str]:
    target_ms = REPORT_TARGET_MS if page.report else PAGE_TARGET_MS
    target = f"p95 ≤ {target_ms:.0f} ms at large; ≤ {RATIO_TARGET}×"
    first, last = results[sizes[0]][page.key], results[sizes[-1]][page.key]
    if first.status != 200 or last.status != 200:
        return "—", target, "NOT MET (error)"
    ratio = last.p(95) / first.p(95)
    ratio_text = f"{ratio:.2f}×" + ("" if (sizes[0], sizes[-1]) == ("small", "large") else f" ({sizes[-1]}/{sizes[0]})")
    if "large" not in sizes or len(sizes) < 2:
        return ratio_text, target, "— (no large run)"
    p95 = results["large"][page.key].p(95) * 1000
    ok_time, ok_ratio = p95 <= target_ms, ratio <= RATIO_TARGET
    if ok_time and ok_ratio:
        return ratio_text, target, "met"
    why = [w for w, ok in ((f"p95 {p95:.0f} ms", ok_time), (f"grows {ratio:.1f}×", ok_ratio)) if not ok]
    return ratio_text, target, "NOT MET (" + ", ".join(why) + ")"


def render(pages: list[Page], sizes: list[str], results: dict, generation: dict, postgres: bool) -> str:
    head = ["page", "who"] + [f"{s}: p50 / p95 · SQL stmts · SQL time · CPU" for s in sizes] + \
        [f"HTML at {sizes[-1]}", "large/small p95", "target", "status"]
    rows = []
    for page in pages:
        ratio, target, status = _judge(page, sizes, results)
        last = results[sizes[-1]][page.key]
        rows.append([f"`{page.path.split('?')[0].replace('{draft}', '<draft>')}`"
                     + (" (one month)" if page.key == "laporan" else "") + (" ?cari=keripik" if page.key == "kasir" else ""),
                     page.who] + [results[s][page.key].cell() for s in sizes] +
                    [f"{last.html_bytes / 1024:,.0f} KB", ratio, target, status])
    met = sum(1 for r in rows if r[-1] == "met")
    engine = "PostgreSQL" if postgres else "SQLite (WAL)"
    sizes_text = "; ".join(f"{s} = {generate.SIZES[s].members:,} members, {generate.SIZES[s].products:,} products, "
                           f"{generate.SIZES[s].lots:,} lots, {generate.SIZES[s].lines:,} sale lines" for s in sizes)
    gen = "; ".join(f"{s} {('generated in %.0f s' % g[1]) if g[1] is not None else 'cached'}" for s, g in generation.items())
    lines = [f"Signed-in and uncached pages on {engine} — {datetime.now():%Y-%m-%d %H:%M}. Single requests through the "
             f"app's test client (page cache off), p50 / p95 of 3 to 100 requests after one warm-up (n=1: a page slower than "
             f"{SLOW_SECONDS:.0f} s, timed once); SQL statements and "
             f"SQL time are medians per request; CPU is this process's CPU time per request (median; SQLite runs "
             f"in-process, PostgreSQL does not), which shows the work when the machine is shared. {sizes_text}. "
             f"Load average when it started: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores. "
             f"Data: {gen}. {met} of {len(rows)} pages meet their targets.", ""]
    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    lines.append("| " + " | ".join(h.ljust(w) for h, w in zip(head, widths)) + " |")
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    lines += ["| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |" for r in rows]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="small,default,large", help="comma list of data sizes, smallest first")
    parser.add_argument("--only", default="", help="comma list of page keys: " + ",".join(p.key for p in PAGES))
    parser.add_argument("--pg", action="store_true", help=f"on PostgreSQL ({PG_URL}_<size>, or BENCH_PG_URL)")
    args = parser.parse_args(argv)
    sizes = [s for s in args.sizes.split(",") if s]
    text, _ = run(sizes, set(filter(None, args.only.split(","))), args.pg)
    print(text)
    name = ("pages-pg" if args.pg else "pages") + ("" if sizes == ["small", "default", "large"] else "-" + "-".join(sizes))
    out = generate.ROOT / "bench" / "results" / f"{name}.md"
    if not args.only:
        out.write_text(text + "\n")
        print("written to", out, file=sys.stderr)


if __name__ == "__main__":
    main()
