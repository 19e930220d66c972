"""A cooperative at scale for the benchmarks: N members, products with photos, lots, counter and online
sales and a settled period. Deterministic by seed; cached under bench/data/<size>/ until the sizes, this
file or the migrations change.

    python -m bench.generate              # default: 250 members, 10k products, 50k lots, 200k sale lines
    python -m bench.generate --size small # 25 members, 1k products, 5k lots, 20k sale lines
    python -m bench.generate --size large # 1,250 members, 50k products, 250k lots, 1M sale lines
    python -m bench.generate --size small --database-url postgresql://…  # the same data in PostgreSQL

Rows are bulk-inserted (the services would take an hour for 200k sale lines) but follow the same
rules: every lot has its intake movement, every sale line its movement, no lot goes below zero,
commission is snapshotted, and the settled period is closed by the real settlement service. Online
sales have their (completed) order; a few orders are still open; a second settlement period is left
open as a draft. The daily sales figures (`sales_daily`) are rebuilt from the sale lines. If the schema keeps a per-lot balance (`consignment_lots.on_hand` or a `lot_balances`
table), it is filled from the movements with one statement at the end.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"


@dataclass(frozen=True)
class Size:
    members: int
    products: int
    lots: int
    lines: int


SIZES = {
    "large": Size(members=1_250, products=50_000, lots=250_000, lines=1_000_000),
    "default": Size(members=250, products=10_000, lots=50_000, lines=200_000),
    "small": Size(members=25, products=1_000, lots=5_000, lines=20_000),
    "tiny": Size(members=10, products=200, lots=1_000, lines=2_000),
}

FOODS = ["Keripik Pisang", "Keripik Singkong", "Keripik Tempe", "Amplang Ikan", "Kerupuk Udang", "Rengginang",
         "Bingka", "Wadai Amparan Tatak", "Kue Lam", "Nastar", "Kastengel", "Bolu Gulung", "Jamu Kunyit Asam",
         "Wedang Jahe", "Teh Kelakai", "Kopi Liberika", "Madu Kelulut", "Sambal Acan", "Abon Ikan", "Bumbu Soto"]
CRAFTS = ["Kain Sasirangan", "Selendang Sasirangan", "Kemeja Sasirangan", "Tas Purun", "Tikar Purun",
          "Miniatur Rumah Banjar", "Talenan Ulin", "Gantungan Kunci Jukung"]
VARIANTS = ["Original", "Pedas", "Manis", "Balado", "Keju", "Pandan", "Cokelat", "Premium", "Haruan", "Tenggiri",
            "Kepok", "Motif Gigi Haruan", "Motif Kulat Karikit", "Motif Bayam Raja", "Jumbo", "Mini"]
SIZES_TEXT = ["100 g", "250 g", "500 g", "1 kg", "botol 250 ml", "toples", "lembar 2 m", "pcs"]
CATEGORY_OF = {**{f: "Makanan Ringan" for f in FOODS[:6]}, **{f: "Kue & Roti" for f in FOODS[6:12]},
               **{f: "Minuman Herbal" for f in FOODS[12:17]}, **{f: "Sambal & Bumbu" for f in FOODS[17:]},
               **{c: "Kain Sasirangan" for c in CRAFTS[:3]}, **{c: "Kerajinan" for c in CRAFTS[3:]}}
PHOTO_POOL = 40


def signature(size: Size, seed: int, database_url: str | None = None) -> str:
    migrations = sorted(p.name for p in (ROOT / "migrations" / "versions").glob("*.py"))
    code = hashlib.sha256(Path(__file__).read_bytes() + (ROOT / "catalog" / "search.py").read_bytes()).hexdigest()
    text = json.dumps({"size": asdict(size), "seed": seed, "code": code, "migrations": migrations,
                       "database": database_url or "sqlite"})
    return hashlib.sha256(text.encode()).hexdigest()


def database_url_for(directory: Path) -> str:
    """The database of a generated data set: PostgreSQL when built with --database-url, else its SQLite file."""
    url_file = directory / "database-url.txt"
    return url_file.read_text().strip() if url_file.exists() else f"sqlite:///{directory / 'pasar.sqlite3'}"


def app_for(directory: Path, database_url: str | None = None):
    from marketplace import create_app

    return create_app({
        "SQLALCHEMY_DATABASE_URI": database_url or database_url_for(directory),
        "MEDIA_ROOT": str(directory / "media"),
        "SEARCH_INDEX_DIR": str(directory / "search-index"),
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "SECRET_KEY": "bench",
    })


def build(name: str, seed: int = 42, force: bool = False, database_url: str | None = None) -> Path:
    """Generate data set `name` (cached) and return its directory (media, search index, database).

    With `database_url` (PostgreSQL) the rows go to that database, which is emptied first; the
    directory is bench/data/pg-<name>/ and remembers the URL."""
    size = SIZES[name]
    directory = DATA / (f"pg-{name}" if database_url else name)
    sig = signature(size, seed, database_url)
    marker = directory / "signature.txt"
    if not force and marker.exists() and marker.read_text() == sig and _still_there(directory, size):
        return directory
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    if database_url:
        _empty_postgres(database_url)
        (directory / "database-url.txt").write_text(database_url)
    started = time.perf_counter()
    app = app_for(directory)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        _populate(size, random.Random(seed))
    seconds = time.perf_counter() - started
    marker.write_text(sig)
    (directory / "generated.json").write_text(json.dumps({"seconds": round(seconds, 1), "size": asdict(size),
                                                          "database": "postgresql" if database_url else "sqlite"}))
    print(f"generated {name} data in {seconds:.0f} s: {asdict(size)}", file=sys.stderr)
    return directory


def generation_seconds(directory: Path) -> float | None:
    try:
        return json.loads((directory / "generated.json").read_text())["seconds"]
    except (OSError, ValueError, KeyError):
        return None


def _still_there(directory: Path, size: Size) -> bool:
    """A PostgreSQL data set can be dropped behind the cache's back: check its sale lines are all there."""
    if not (directory / "database-url.txt").exists():
        return (directory / "pasar.sqlite3").exists()
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url_for(directory))
    try:
        with engine.connect() as conn:
            return conn.scalar(text("SELECT count(*) FROM sale_lines")) == size.lines
    except Exception:  # noqa: BLE001 - no database, no table: generate again
        return False
    finally:
        engine.dispose()


def _empty_postgres(database_url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _chunks(rows, n=5000):
    for i in range(0, len(rows), n):
        yield rows[i:i + n]


def _bulk(table, rows):
    from marketplace.extensions import db

    for chunk in _chunks(rows):
        db.session.execute(table.insert(), chunk)


def _populate(size: Size, rng: random.Random) -> None:
    from catalog import services as catalog_services
    from catalog.models import Product, ProductPhoto
    from marketplace.photos import PhotoLimits, store_photo
    from catalog.search import reindex_all
    from consignment.models import ConsignmentLot, Sale, SaleLine, StockMovement
    from consignment.services import CODE_ALPHABET, commission_amount, rebuild_balances
    from consignment.daily import rebuild as rebuild_daily_sales
    from flask import current_app
    from marketplace.accounts import create_user, hash_password
    from marketplace.extensions import db
    from marketplace.models import Cooperative, Member, User
    from marketplace.seed import CATEGORIES, draw_product_photo
    from marketplace.text import slugify
    from marketplace.timeutil import local_today, utcnow
    from settlement import services as settlement
    from sqlalchemy import text

    db.session.add(Cooperative(name="Koperasi Bench Nusantara", default_commission_bp=1500, whatsapp="6281200000000"))
    db.session.commit()
    pengurus = create_user(name="Pengurus Bench", email="pengurus@bench.id", password="bench12345", role="pengurus")
    kasir = create_user(name="Kasir Bench", email="kasir@bench.id", password="bench12345", role="kasir")
    categories = {c: catalog_services.create_category(pengurus, c) for c in CATEGORIES}
    now = utcnow()

    password = hash_password("bench12345")
    users, members = [], []
    for i in range(1, size.members + 1):
        uid = 1000 + i
        users.append({"id": uid, "email": f"umkm{i}@bench.id", "phone": f"62813{i:08d}", "name": f"Pemilik {i}",
                      "password_hash": password, "role": "member", "active": True, "created_at": now})
        members.append({"id": i, "user_id": uid, "business_name": f"UMKM {rng.choice(FOODS + CRAFTS)} {i}",
                        "slug": f"umkm-{i}", "owner_name": f"Pemilik {i}", "whatsapp": f"62813{i:08d}",
                        "address": "Kalimantan Selatan", "bank_name": "Bank Kalsel",
                        "bank_account_number": f"0010{i:08d}", "bank_account_holder": f"Pemilik {i}",
                        "joined_on": date(2022, 1, 1), "active": True})
    _bulk(User.__table__, users)
    _bulk(Member.__table__, members)

    limits = PhotoLimits.from_config(current_app.config)
    pool = [store_photo(draw_product_photo(f"Foto {n}", rng.choice(CATEGORIES), seed=n, size=(800, 600)),
                        f"pool{n}.jpg", current_app.config["MEDIA_ROOT"], limits) for n in range(PHOTO_POOL)]

    products, photos = [], []
    for i in range(1, size.products + 1):
        base = rng.choice(FOODS + CRAFTS)
        name = f"{base} {rng.choice(VARIANTS)} {rng.choice(SIZES_TEXT)}"
        status = "published" if rng.random() < 0.95 else "draft"
        published = now - timedelta(days=rng.randint(1, 400))
        products.append({"id": i, "member_id": rng.randint(1, size.members), "category_id": categories[CATEGORY_OF[base]].id,
                         "name": name, "slug": f"{slugify(name)}-{i}", "description": f"{name} buatan UMKM anggota.",
                         "price": rng.randrange(5_000, 300_000, 500), "unit": "pcs", "status": status,
                         "created_at": published, "updated_at": published,
                         "published_at": published if status == "published" else None})
        photo = pool[i % PHOTO_POOL]
        photos.append({"id": i, "product_id": i, "position": 0, "content_hash": photo.content_hash,
                       "original_ext": photo.original_ext, "width": photo.width, "height": photo.height,
                       "created_at": published})
    _bulk(Product.__table__, products)
    _bulk(ProductPhoto.__table__, photos)

    lots, movements, codes = [], [], set()
    remaining = []
    horizon = 90
    for i in range(1, size.lots + 1):
        product = products[rng.randrange(size.products)]
        while True:
            code = "".join(rng.choice(CODE_ALPHABET) for _ in range(6))
            if code not in codes:
                codes.add(code)
                break
        quantity = rng.randint(6, 14)
        bp = 1000 if product["category_id"] == categories["Kain Sasirangan"].id else 1500
        received = now - timedelta(days=rng.uniform(0, horizon))
        lots.append({"id": i, "code": code, "member_id": product["member_id"], "product_id": product["id"],
                     "quantity_received": quantity, "unit_price": product["price"], "commission_bp": bp,
                     "note": "", "received_by_id": kasir.id, "received_at": received})
        movements.append({"lot_id": i, "kind": "intake", "quantity": quantity, "reason": "intake",
                          "actor_id": kasir.id, "created_at": received})
        remaining.append(quantity)
    _bulk(ConsignmentLot.__table__, lots)
    _bulk(StockMovement.__table__, movements)

    # Sales, their lines and movements (and the order of each online sale) are written in batches: at the
    # large size the rows would not fit in memory at once.
    from orders import states
    from orders.models import Order, OrderLine

    sales, lines, movements, orders, order_lines = [], [], [], [], []
    line_id, sale_id, order_id = 0, 0, 0
    lot_ids = list(range(1, size.lots + 1))

    def flush():
        _bulk(Sale.__table__, sales)
        _bulk(SaleLine.__table__, lines)
        _bulk(Order.__table__, orders)
        _bulk(OrderLine.__table__, order_lines)
        _bulk(StockMovement.__table__, movements)
        for rows in (sales, lines, orders, order_lines, movements):
            rows.clear()

    while line_id < size.lines:
        sale_id += 1
        # Sales are spread evenly over the last 60 days, oldest first.
        when = now - timedelta(days=60) + timedelta(seconds=60 * 86400 * line_id / size.lines)
        online = rng.random() < 0.1
        total, sale_lines = 0, []
        for _ in range(min(rng.choice((1, 2, 2, 3, 3, 4)), size.lines - line_id)):
            idx = rng.choice(lot_ids) - 1
            tries = 0
            while (remaining[idx] == 0 or lots[idx]["received_at"] > when) and tries < 50:
                idx, tries = rng.randrange(size.lots), tries + 1
            if remaining[idx] == 0 or lots[idx]["received_at"] > when:
                continue
            qty = 1 if remaining[idx] == 1 or rng.random() < 0.8 else 2
            remaining[idx] -= qty
            lot = lots[idx]
            line_id += 1
            line_total = qty * lot["unit_price"]
            sale_lines.append((line_id, lot, qty, line_total))
            total += line_total
        if total == 0:
            sale_id -= 1
            continue
        if online:
            order_id += 1
            orders.append(_order_row(order_id, states.COMPLETED, total, when, sale_id))
        for line_id_, lot, qty, line_total in sale_lines:
            lines.append({"id": line_id_, "sale_id": sale_id, "lot_id": lot["id"], "product_id": lot["product_id"],
                          "member_id": lot["member_id"], "quantity": qty, "unit_price": lot["unit_price"],
                          "line_total": line_total, "commission_bp": lot["commission_bp"],
                          "commission": commission_amount(line_total, lot["commission_bp"])})
            if online:
                order_lines.append({"id": line_id_, "order_id": order_id, "product_id": lot["product_id"],
                                    "lot_id": lot["id"], "quantity": qty, "unit_price": lot["unit_price"],
                                    "line_total": line_total})
            movements.append({"lot_id": lot["id"], "kind": "online_sale" if online else "sale", "quantity": -qty,
                              "reason": f"J-bench-{sale_id}", "sale_line_id": line_id_,
                              "order_line_id": line_id_ if online else None, "actor_id": kasir.id,
                              "created_at": when})
        sales.append({"id": sale_id, "number": f"J-bench-{sale_id:07d}", "channel": "online" if online else "counter",
                      "payment_method": "midtrans" if online else rng.choice(("cash", "qris", "transfer")),
                      "total": total, "cash_received": None, "payment_reference": "", "cashier_id": kasir.id,
                      "created_at": when})
        if len(lines) >= 50_000:
            flush()
    flush()

    # A few online orders are still open (paid and waiting for pickup, or to pay at the gerai): the staff's
    # order list shows them. They take no stock from the ledger here (paid orders hold a sale in the real
    # flow; these are listed, never settled), so the lot balances stay exact.
    for status in (states.PENDING, states.PAID, states.READY) * 20:
        order_id += 1
        idx = rng.randrange(size.lots)
        lot = lots[idx]
        orders.append(_order_row(order_id, status, lot["unit_price"], now - timedelta(minutes=rng.randint(1, 600)),
                                 None, states.PAY_AT_GERAI if status != states.PAID else states.PAY_ONLINE))
        order_lines.append({"id": size.lines + order_id, "order_id": order_id, "product_id": lot["product_id"], "lot_id": lot["id"],
                            "quantity": 1, "unit_price": lot["unit_price"], "line_total": lot["unit_price"]})
    flush()
    db.session.commit()
    rebuild_balances()  # bulk rows bypassed append_movement: each lot's on_hand from its movements
    rebuild_daily_sales()  # …and the services' daily sales figures (consignment.daily): from the sale lines

    # Settle the first half of the sales: the benchmarks then close the second half. A second period
    # stays open as a draft (its page shows the draft statements of every member).
    cutoff = local_today() - timedelta(days=31)
    period = settlement.open_period(pengurus, cutoff, "bench: first month")
    settlement.close_period(pengurus, period.id)
    settlement.open_period(pengurus, local_today(), "bench: open draft")
    _fill_lot_balances()
    _reset_sequences()
    reindex_all()
    db.session.execute(text("ANALYZE"))
    db.session.commit()


def _order_row(order_id: int, status: str, total: int, when, sale_id, method: str = "midtrans") -> dict:
    return {"id": order_id, "number": f"P-bench-{order_id:07d}", "token": f"bench-order-token-{order_id:09d}",
            "customer_name": f"Pembeli {order_id}", "customer_phone": f"62857{order_id:08d}",
            "fulfilment": "pickup", "address": "", "notes": "", "payment_method": method, "status": status,
            "total": total, "snap_token": "", "snap_redirect_url": "", "sale_id": sale_id, "client_ip": "10.0.0.1",
            "created_at": when, "expires_at": when + timedelta(days=2),
            "paid_at": when if status in ("paid", "ready", "completed") else None}


def _fill_lot_balances() -> None:
    """If the schema keeps each lot's balance (`consignment_lots.on_hand` or a `lot_balances` table), fill
    it from the movements with one statement: the generator inserts movements in bulk, past the services."""
    from marketplace.extensions import db
    from sqlalchemy import text

    tables = db.metadata.tables
    lots = tables["consignment_lots"]
    if "on_hand" in lots.c:
        db.session.execute(text("UPDATE consignment_lots SET on_hand = (SELECT COALESCE(SUM(m.quantity), 0) "
                                "FROM stock_movements m WHERE m.lot_id = consignment_lots.id)"))
    balances = tables.get("lot_balances")
    if balances is not None:
        column = next(c for c in ("on_hand", "quantity", "balance") if c in balances.c)
        db.session.execute(text("DELETE FROM lot_balances"))
        db.session.execute(text(f"INSERT INTO lot_balances (lot_id, {column}) SELECT l.id, COALESCE(SUM(m.quantity), 0) "
                                "FROM consignment_lots l LEFT JOIN stock_movements m ON m.lot_id = l.id GROUP BY l.id"))


def _reset_sequences() -> None:
    """PostgreSQL: rows were inserted with explicit ids; move each id sequence past them."""
    from marketplace.extensions import db
    from sqlalchemy import text

    if db.engine.dialect.name != "postgresql":
        return
    for table in db.metadata.sorted_tables:
        if "id" in table.c and table.c.id.primary_key and table.c.id.autoincrement:
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                    f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="default")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--database-url", default=None, help="a PostgreSQL database to fill (emptied first)")
    args = parser.parse_args(argv)
    print(build(args.size, args.seed, args.force, args.database_url))


if __name__ == "__main__":
    main()
