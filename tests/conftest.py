"""Shared fixtures: a migrated database per session (SQLite, or PostgreSQL via TEST_DATABASE_URL),
a fresh app with empty tables per test, factories returning callables, and Pillow-made images."""
from __future__ import annotations

import io
import itertools
import os
import time

import pytest
from flask.testing import FlaskClient
from PIL import Image, ImageDraw
from sqlalchemy import create_engine, make_url, text

from bench import photo_memory
from marketplace import create_app
from marketplace.config import normalise_database_url
from marketplace.extensions import db

FAST_HASH = "pbkdf2:sha256:1000"  # tests need not pay for scrypt
PASSWORD = "rahasia123"


def _reset_schema(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _own_database(url: str, worker: str) -> str:
    """Under pytest-xdist each worker gets its own PostgreSQL database (`<name>_gw0`, …), created on
    first use next to TEST_DATABASE_URL's, so two workers never truncate each other's tables."""
    base = make_url(url)
    name = f"{base.database}_{worker}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory, worker_id) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        url = normalise_database_url(url)
        if worker_id != "master":
            url = _own_database(url, worker_id)
        _reset_schema(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    # The schema comes only from the migrations, exactly as in production.
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True,
                      "MEDIA_ROOT": str(tmp_path_factory.mktemp("media0")),
                      "SEARCH_INDEX_DIR": str(tmp_path_factory.mktemp("index0"))})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    return url


def _wipe(app) -> None:
    with app.app_context():
        tables = [t for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if db.engine.dialect.name == "postgresql":
                conn.execute(text("TRUNCATE " + ", ".join(t.name for t in tables) + " RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    conn.execute(table.delete())
        db.engine.dispose()


@pytest.fixture
def app_config(database_url, tmp_path) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
        "SECRET_KEY": "test-secret",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "SEARCH_INDEX_DIR": str(tmp_path / "search-index"),
        "PASSWORD_HASH_METHOD": FAST_HASH,
        "PAGE_CACHE_SECONDS": 0,  # tests that want the page cache turn it on
        "MAX_UPLOAD_MB": 2,
        "SERVER_NAME": None,
    }


class FreshContextClient(FlaskClient):
    """Each request gets its own app context (fresh `g`, own DB session), as in production,
    even though the test itself runs inside a long-lived app context."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    app.test_client_class = FreshContextClient
    with app.app_context():
        yield app
        db.session.remove()
    _wipe(app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client):
        self.client = client

    def login(self, identifier: str, password: str = PASSWORD):
        return self.client.post("/masuk", data={"identifier": identifier, "password": password})

    def logout(self):
        return self.client.post("/keluar")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def login_as(auth, make_user, make_member):
    """Sign the test client in as a new user of `role` (None: stay anonymous). Returns the member for
    role "member" (or signs in the given `member`), else the user."""

    def login(role, member=None):
        if role == "member":
            member = member or make_member()
            auth.login(member.user.email)
            return member
        if role:
            user = make_user(role)
            auth.login(user.email)
            return user

    return login


# --- factories -------------------------------------------------------------------------------------

_seq = itertools.count(1)


@pytest.fixture
def make_user(app):
    from marketplace.accounts import create_user

    def make(role: str = "pengurus", **overrides):
        n = next(_seq)
        fields = {"name": f"{role.title()} {n}", "email": f"{role}{n}@test.id", "password": PASSWORD, "role": role}
        fields.update(overrides)
        return create_user(**fields)

    return make


@pytest.fixture
def make_member(app):
    from marketplace.accounts import MemberDetails, create_member_account

    def make(**overrides):
        n = next(_seq)
        details = MemberDetails(
            business_name=overrides.pop("business_name", f"UMKM Uji {n}"),
            owner_name=overrides.pop("owner_name", f"Pemilik {n}"),
            whatsapp=overrides.pop("whatsapp", f"0813{n:08d}"),
            bank_name="Bank Kalsel", bank_account_number=overrides.pop("bank_account_number", f"99887766{n:04d}"),
            bank_account_holder=f"Pemilik {n}",
        )
        return create_member_account(details=details, email=overrides.pop("email", f"member{n}@test.id"),
                                     phone=None, password=overrides.pop("password", PASSWORD), actor=None)

    return make


@pytest.fixture
def make_category(app):
    from catalog.services import create_category

    def make(name: str | None = None):
        return create_category(None, name or f"Kategori {next(_seq)}")

    return make


@pytest.fixture
def make_product(app, make_member):
    from catalog.services import ProductData, Upload, create_product

    def make(member=None, photos: int = 0, **overrides):
        member = member or make_member()
        data = ProductData(name=overrides.pop("name", f"Produk {next(_seq)}"), price=overrides.pop("price", 15000),
                           unit=overrides.pop("unit", "pcs"), description=overrides.pop("description", ""),
                           category_id=overrides.pop("category_id", None),
                           status=overrides.pop("status", "published"))
        uploads = [Upload(f"foto{i}.jpg", jpeg_bytes(seed=next(_seq))) for i in range(photos)]
        return create_product(member.user, data, uploads)

    return make


# --- images made with Pillow -----------------------------------------------------------------------

def jpeg_bytes(size=(800, 600), seed: int = 0, exif=None, quality: int = 85) -> bytes:
    image = Image.new("RGB", size, ((seed * 37) % 256, (seed * 91) % 256, 120))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, size[0] // 4, size[1] // 4), fill=(255, 0, 0))  # red marker, top-left
    out = io.BytesIO()
    kwargs = {"exif": exif} if exif is not None else {}
    image.save(out, "JPEG", quality=quality, **kwargs)
    return out.getvalue()


@pytest.fixture
def images():
    """Builders for the photos a phone (or an attacker) sends."""

    class Images:
        jpeg = staticmethod(jpeg_bytes)

        @staticmethod
        def png(size=(640, 480), mode="RGBA") -> bytes:
            image = Image.new(mode, size, (10, 120, 200, 128) if mode == "RGBA" else (10, 120, 200))
            out = io.BytesIO()
            image.save(out, "PNG")
            return out.getvalue()

        @staticmethod
        def rotated_phone_photo() -> bytes:
            """Stored landscape 800x600 with EXIF Orientation=6 (rotate 90° CW to view) and GPS data."""
            exif = Image.Exif()
            exif[0x0112] = 6
            exif[0x010F] = "HP Murah"  # Make
            gps = {1: "S", 2: (3.0, 19.0, 0.0), 3: "E", 4: (114.0, 35.0, 0.0)}
            exif[0x8825] = gps
            return jpeg_bytes(size=(800, 600), exif=exif)

        # The files bench/photo_memory.py measures: the same builders, so tests and benchmark agree.
        big_phone_photo = staticmethod(photo_memory.camera_jpeg)  # 3.4 MB: over the tests' MAX_UPLOAD_MB of 2
        bomb = staticmethod(photo_memory.bomb)
        big_rgba_png = staticmethod(photo_memory.big_rgba_png)
        png16 = staticmethod(photo_memory.png16)
        corrupt_jpeg = staticmethod(photo_memory.corrupt_jpeg)

        @staticmethod
        def truncated() -> bytes:
            data = jpeg_bytes(size=(1200, 900), seed=3)
            return data[: len(data) // 2]

        @staticmethod
        def cut_short_with_end_marker() -> bytes:
            """A photo whose second half is missing, closed with a proper end-of-image marker."""
            data = jpeg_bytes(size=(1200, 900), seed=4, quality=95)
            return data[: len(data) // 2] + b"\xff\xd9"

        @staticmethod
        def text_as_jpg() -> bytes:
            return b"Ini bukan foto, hanya teks biasa yang diberi nama .jpg\n" * 20

    return Images()


# --- live server and a real browser ----------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]


@pytest.fixture
def live_server(app):
    """The app served by a real HTTP server on 127.0.0.1 in a background thread."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def playwright():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is missing in CI: scripts/ensure-chromium.sh should have installed it")
        pytest.skip("Debian's chromium is not installed (run `make test`, which installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


@pytest.fixture(scope="session")
def browser(playwright):
    browser = launch_chromium(playwright)
    yield browser
    browser.close()


def watch_csp(page) -> list[str]:
    """Collect the Content-Security-Policy violations the browser reports on `page` (console errors
    "Refused to execute inline script/event handler…", "Refused to load…")."""
    violations: list[str] = []
    page.on("console", lambda message: violations.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text else None)
    return violations


@pytest.fixture
def page(browser, tmp_path):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="id-ID")  # a phone
    page = context.new_page()
    page.set_default_timeout(15_000)
    violations = watch_csp(page)
    yield page
    context.close()
    # Every browser flow also proves its pages work under the Content-Security-Policy.
    assert violations == [], violations


@pytest.fixture
def make_lot(app, make_user, make_product):
    """Receive goods into the gerai: make_lot(product=None, quantity=10, **receive_lot kwargs)."""
    from consignment.services import receive_lot

    state = {}

    def make(product=None, quantity: int = 10, kasir=None, **kwargs):
        if kasir is None:
            kasir = state.get("kasir") or state.setdefault("kasir", make_user("kasir"))
        product = product or make_product()
        return receive_lot(kasir, product_id=product.id, quantity=quantity, **kwargs)

    return make


# --- a local stand-in for the Midtrans HTTP API ----------------------------------------------------

MIDTRANS_SERVER_KEY = "SB-Mid-server-TEST-KEY"


def _tlv(tag: str, value: str) -> str:
    return f"{tag}{len(value):02d}{value}"


def qris_string(order_id: str, amount: int) -> str:
    """A QRIS payload shaped like a real one (EMVCo tags, the amount, CRC-16/CCITT at the end)."""
    body = (_tlv("00", "01") + _tlv("01", "12")
            + _tlv("26", _tlv("00", "COM.GO-JEK.WWW") + _tlv("01", "936009143240000001") + _tlv("02", "G324000001")
                   + _tlv("03", "UMI"))
            + _tlv("52", "5499") + _tlv("53", "360") + _tlv("54", str(amount)) + _tlv("58", "ID")
            + _tlv("59", "KOPERASI UJI") + _tlv("60", "BANJARMASIN") + _tlv("62", _tlv("01", order_id[:25]))
            + "6304")
    crc = 0xFFFF
    for byte in body.encode():
        crc ^= byte << 8
        for _bit in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{body}{crc:04X}"


class MidtransStub:
    """Answers the calls the app makes through midtransclient: Snap's create transaction, the Core API's
    charge (QRIS), transaction status and cancel. Tests set each order's status (`set_status`, or `mark` by
    order_id) and build signed notifications (`notification`), or have the stub send one (`notify`)."""

    def __init__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        stub = self
        self.statuses: dict[str, dict] = {}
        self.created: list[dict] = []
        self.charges: list[dict] = []  # bodies of POST /v2/charge
        self.cancelled: list[str] = []  # order ids of POST /v2/<order_id>/cancel
        self.fail_next_create = False
        self.html_502 = False  # answer every call like a proxy in front of a failing Midtrans
        self.delay_seconds = 0.0
        self.auth_headers: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, code, body):
                import json as _json

                data = _json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _send_html_502(self):
                data = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
                self.send_response(502)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                import json as _json
                import time as _time

                stub.auth_headers.append(self.headers.get("Authorization", ""))
                body = _json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if stub.delay_seconds:
                    _time.sleep(stub.delay_seconds)
                if stub.html_502:
                    return self._send_html_502()
                if self.path.rstrip("/") == "/v2/charge":
                    return self._send(*stub._charge(body))
                parts = self.path.strip("/").split("/")
                if len(parts) == 3 and parts[0] == "v2" and parts[2] == "cancel":
                    return self._send(*stub._cancel(parts[1]))
                if self.path.rstrip("/") != "/snap/v1/transactions":
                    return self._send(404, {"error_messages": ["not found"]})
                if stub.fail_next_create:
                    stub.fail_next_create = False
                    return self._send(500, {"error_messages": ["internal error"]})
                stub.created.append(body)
                order_id = body["transaction_details"]["order_id"]
                return self._send(201, {"token": f"tok-{order_id}",
                                        "redirect_url": f"{stub.url}/snap/v4/redirection/tok-{order_id}"})

            def do_GET(self):
                import time as _time

                stub.auth_headers.append(self.headers.get("Authorization", ""))
                if stub.delay_seconds:
                    _time.sleep(stub.delay_seconds)
                if stub.html_502:
                    return self._send_html_502()
                parts = self.path.strip("/").split("/")
                if len(parts) == 3 and parts[0] == "v2" and parts[2] == "status":
                    status = stub.statuses.get(parts[1])
                    if status is None:
                        return self._send(200, {"status_code": "404", "status_message": "Transaction doesn't exist."})
                    return self._send(200, status)
                return self._send(404, {})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _charge(self, body: dict) -> tuple[int, dict]:
        """POST /v2/charge with payment_type qris: a pending transaction with its QR."""
        import uuid
        from datetime import datetime, timedelta, timezone

        if body.get("payment_type") != "qris":
            return 200, {"status_code": "400", "status_message": "payment_type not supported by the stand-in"}
        if self.fail_next_create:
            self.fail_next_create = False
            return 500, {"status_code": "500", "status_message": "internal error"}
        self.charges.append(body)
        order_id = body["transaction_details"]["order_id"]
        amount = int(body["transaction_details"]["gross_amount"])
        if order_id in self.statuses:
            return 200, {"status_code": "406", "status_message": "The request could not be completed due to a "
                                                               "conflict with the current state of the target resource, please try again"}
        transaction_id = str(uuid.uuid4())
        minutes = int((body.get("custom_expiry") or {}).get("expiry_duration", 15))
        wib = timezone(timedelta(hours=7))
        now = datetime.now(wib)
        status = {"status_code": "201", "status_message": "QRIS transaction is created", "transaction_id": transaction_id,
                  "order_id": order_id, "merchant_id": "G324000001", "gross_amount": f"{amount}.00", "currency": "IDR",
                  "payment_type": "qris", "transaction_time": now.strftime("%Y-%m-%d %H:%M:%S"),
                  "transaction_status": "pending", "fraud_status": "accept", "acquirer": "gopay",
                  "expiry_time": (now + timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M:%S")}
        self.statuses[order_id] = dict(status)
        return 200, {**status, "qr_string": qris_string(order_id, amount), "actions": [
            {"name": "generate-qr-code", "method": "GET",
             "url": f"{self.url}/v2/qris/{transaction_id}/qr-code"}]}

    def _cancel(self, order_id: str) -> tuple[int, dict]:
        status = self.statuses.get(order_id)
        self.cancelled.append(order_id)
        if status is None:
            return 200, {"status_code": "404", "status_message": "Transaction doesn't exist."}
        if status["transaction_status"] != "pending":
            return 200, {"status_code": "412", "status_message": "Merchant cannot modify the status of the transaction"}
        status.update(transaction_status="cancel", status_code="200", status_message="Success, transaction is canceled")
        return 200, dict(status)

    def mark(self, order_id: str, transaction_status: str, fraud_status: str = "accept",
             gross_amount: int | None = None) -> dict:
        """What the shopper (or time) did to a charged transaction: "settlement", "expire", "deny", …"""
        status = self.statuses[order_id]
        status.update(transaction_status=transaction_status, fraud_status=fraud_status,
                      status_code={"settlement": "200", "capture": "200", "pending": "201"}.get(transaction_status, "202"))
        if gross_amount is not None:
            status["gross_amount"] = f"{gross_amount}.00"
        return dict(status)

    def signed(self, order_id: str, key: str = MIDTRANS_SERVER_KEY) -> dict:
        """The notification Midtrans would send for the transaction's current status, signed."""
        import hashlib

        status = dict(self.statuses[order_id])
        status["signature_key"] = hashlib.sha512((status["order_id"] + status["status_code"] + status["gross_amount"]
                                                  + key).encode()).hexdigest()
        return status

    def notify(self, base_url: str, order_id: str, key: str = MIDTRANS_SERVER_KEY) -> int:
        """Send the signed notification to the app over HTTP, as Midtrans does; returns the HTTP status."""
        import requests

        response = requests.post(f"{base_url}/payments/midtrans/notification", json=self.signed(order_id, key),
                                 timeout=10)
        return response.status_code

    def set_status(self, order, transaction_status: str, fraud_status: str = "accept", gross_amount: int | None = None):
        code = {"settlement": "200", "capture": "200", "pending": "201"}.get(transaction_status, "202")
        known = self.statuses.get(order.number) or {}
        self.statuses[order.number] = {
            "status_code": code, "transaction_id": known.get("transaction_id", f"trx-{order.number}"),
            "order_id": order.number,
            "gross_amount": f"{order.total if gross_amount is None else gross_amount}.00",
            "transaction_status": transaction_status, "fraud_status": fraud_status, "payment_type": "qris",
            "currency": "IDR",
        }
        return self.statuses[order.number]

    def notification(self, order, transaction_status: str, fraud_status: str = "accept", key: str = MIDTRANS_SERVER_KEY):
        import hashlib

        status = dict(self.statuses.get(order.number) or self.set_status(order, transaction_status, fraud_status))
        status["transaction_status"], status["fraud_status"] = transaction_status, fraud_status
        status["status_code"] = {"settlement": "200", "capture": "200", "pending": "201"}.get(transaction_status, "202")
        status["signature_key"] = hashlib.sha512((status["order_id"] + status["status_code"] + status["gross_amount"]
                                                  + key).encode()).hexdigest()
        return status

    def close(self):
        self.server.shutdown()


@pytest.fixture
def midtrans_stub(app):
    stub = MidtransStub()
    app.config.update(MIDTRANS_SERVER_KEY=MIDTRANS_SERVER_KEY, MIDTRANS_CLIENT_KEY="SB-Mid-client-TEST",
                      MIDTRANS_SNAP_BASE_URL=f"{stub.url}/snap/v1", MIDTRANS_API_BASE_URL=stub.url,
                      MIDTRANS_TIMEOUT=2.0)
    yield stub
    stub.close()


@pytest.fixture
def at_once(app):
    """`at_once(call, call, ...)` starts the callables at the same moment, each in its own thread with its
    own app context and database session (as concurrent requests or workers would be). Returns what each
    returned, or the exception it raised, in order. Return plain values, not ORM objects."""
    import threading

    def run(*calls):
        barrier, results = threading.Barrier(len(calls)), [None] * len(calls)

        def worker(index, call):
            with app.app_context():
                try:
                    barrier.wait(timeout=30)
                    results[index] = call()
                except Exception as exc:  # noqa: BLE001 - the test looks at what each call did
                    results[index] = exc
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        db.session.expire_all()
        return results

    return run


@pytest.fixture
def count_queries(app):
    """`with count_queries() as n: ...` then `n()` is the number of SQL statements the block ran
    (`n.statements` lists them)."""
    from contextlib import contextmanager

    from sqlalchemy import event

    @contextmanager
    def counting():
        statements = []

        def before(conn, cursor, statement, *args):
            if not statement.lstrip().upper().startswith(("PRAGMA", "SAVEPOINT", "RELEASE")):
                statements.append(statement)

        engine = db.engine
        event.listen(engine, "before_cursor_execute", before)
        def count() -> int:
            return len(statements)

        count.statements = statements  # the SQL itself, for tests that look at which statements ran
        try:
            yield count
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counting


# --- a second, empty instance (restores of backups) ------------------------------------------------

@pytest.fixture
def second_database_url(database_url, tmp_path):
    """An empty database beside the test database: a new SQLite file, or on PostgreSQL a database
    `<test database>_restore` created here (the role has CREATEDB) and dropped afterwards."""
    from sqlalchemy.engine import make_url

    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'second.sqlite3'}"
        return
    url = make_url(database_url)
    name = f"{url.database}_restore"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    _drop_database(admin, name)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    _drop_database(admin, name)
    admin.dispose()


def _drop_database(admin, name: str) -> None:
    """Drop database `name` (PostgreSQL). A plain DROP makes PostgreSQL end an autovacuum worker busy in it (a
    restored database gets analysed), but fails while our own sessions are connected; WITH (FORCE) ends those,
    but refuses, for a role that is not superuser, while an autovacuum worker is there. So: try both a while."""
    from sqlalchemy.exc import DBAPIError

    for attempt in range(100):
        for force in ("", " WITH (FORCE)"):
            try:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"{force}'))
                return
            except DBAPIError:
                if attempt == 99 and force:
                    raise
        time.sleep(0.1)


@pytest.fixture
def second_instance(app_config, second_database_url, tmp_path):
    """A fresh app on the second database, with its own MEDIA_ROOT and search index."""
    instance = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": second_database_url,
                           "MEDIA_ROOT": str(tmp_path / "second-media"),
                           "SEARCH_INDEX_DIR": str(tmp_path / "second-index")})
    yield instance
    with instance.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def send_twice(app, at_once):
    """`send_twice(client, url, data, at_once=False)` sends the same POST twice with the same cookies
    — a retry after a dropped connection, the back button, a double tap reaching two workers — one
    after the other, or at the same moment. Returns [(status, Location), …] of both answers."""

    def twin(client):
        copy = app.test_client()
        for name in ("session", "remember_token"):
            cookie = client.get_cookie(name)
            if cookie is not None:
                copy.set_cookie(name, cookie.value)
        return copy

    def send(client, url, data, *, at_once_: bool = False):
        clients = [client, twin(client)]

        def post(c):
            response = c.post(url, data=data)
            return response.status_code, response.headers.get("Location")

        if at_once_:
            return at_once(*[(lambda c=c: post(c)) for c in clients])
        return [post(c) for c in clients]

    return send


# --- a local stand-in for the WhatsApp Business Cloud API (Graph API) --------------------------------

WHATSAPP_TOKEN = "EAAG-test-token"
WHATSAPP_PHONE_NUMBER_ID = "109876543210"
WHATSAPP_APP_SECRET = "test-app-secret"
WHATSAPP_VERIFY_TOKEN = "verify-me"


class GraphStub:
    """Answers POST /<version>/<phone number id>/messages like the Cloud API and records every request.
    `answers` is a queue of what to do with the next requests: ("ok",), ("500",), ("timeout", seconds),
    ("429", retry_after), ("400", error code); when empty, every request is accepted."""

    def __init__(self):
        import itertools as _itertools
        import json as _json
        import threading
        import time as _time
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        stub = self
        self.requests: list[dict] = []  # {"path", "authorization", "body"}
        self.answers: list[tuple] = []
        self.lock = threading.Lock()
        self.delay_seconds = 0.0
        ids = _itertools.count(1)

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, code, body, headers=None):
                data = _json.dumps(body).encode()
                try:
                    self.send_response(code)
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
                    pass

            def do_POST(self):
                body = _json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                with stub.lock:
                    stub.requests.append({"path": self.path, "authorization": self.headers.get("Authorization", ""),
                                          "body": body})
                    answer = stub.answers.pop(0) if stub.answers else ("ok",)
                if stub.delay_seconds:
                    _time.sleep(stub.delay_seconds)
                if answer[0] == "timeout":
                    _time.sleep(answer[1])
                    return self._send(200, {"messages": [{"id": f"wamid.late{next(ids)}"}]})
                if answer[0] == "500":
                    return self._send(500, {"error": {"message": "An unknown error occurred", "code": 1,
                                                      "type": "OAuthException"}})
                if answer[0] == "429":
                    return self._send(429, {"error": {"message": "Rate limit hit", "code": 130429}},
                                      {"Retry-After": str(answer[1])})
                if answer[0] == "400":
                    return self._send(400, {"error": {"message": "Message undeliverable", "code": answer[1],
                                                      "error_data": {"details": "Recipient is not on WhatsApp"}}})
                expected = f"/{WHATSAPP_API_VERSION_IN_TESTS}/{WHATSAPP_PHONE_NUMBER_ID}/messages"
                if self.path != expected or self.headers.get("Authorization") != f"Bearer {WHATSAPP_TOKEN}":
                    return self._send(401, {"error": {"message": "Invalid OAuth access token", "code": 190}})
                return self._send(200, {"messaging_product": "whatsapp",
                                        "contacts": [{"input": body.get("to"), "wa_id": body.get("to")}],
                                        "messages": [{"id": f"wamid.TEST{next(ids)}", "message_status": "accepted"}]})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def sent_keys(self) -> list[str]:
        return [r["body"].get("biz_opaque_callback_data") for r in self.requests]

    def close(self):
        self.server.shutdown()


WHATSAPP_API_VERSION_IN_TESTS = "v21.0"


def whatsapp_status_payload(statuses: list[dict]) -> dict:
    """A webhook body as Meta posts it: statuses of messages sent from our number."""
    return {"object": "whatsapp_business_account", "entry": [{"id": "WABA-1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "6281234567890", "phone_number_id": WHATSAPP_PHONE_NUMBER_ID},
        "statuses": statuses}}]}]}


@pytest.fixture
def graph_stub(app):
    """The app configured for the Cloud API, pointed at a local stand-in."""
    stub = GraphStub()
    app.config.update(WHATSAPP_TOKEN=WHATSAPP_TOKEN, WHATSAPP_PHONE_NUMBER_ID=WHATSAPP_PHONE_NUMBER_ID,
                      WHATSAPP_API_BASE_URL=stub.url, WHATSAPP_API_VERSION=WHATSAPP_API_VERSION_IN_TESTS,
                      WHATSAPP_APP_SECRET=WHATSAPP_APP_SECRET, WHATSAPP_VERIFY_TOKEN=WHATSAPP_VERIFY_TOKEN,
                      WHATSAPP_TIMEOUT=1.0)
    yield stub
    stub.close()
