"""The full export: every table the cooperative's work lives in, as one XLSX workbook (a sheet per table) or
as a ZIP of CSV files with a README.txt describing each file's columns.

Streamed, never all rows in memory: rows are read on a connection of their own with a server-side cursor
(`yield_per`) and written one by one — the ZIP straight into the response (zipfile writes to a stream
that cannot seek, with data descriptors), the workbook through openpyxl's write-only mode (each sheet
goes to a temporary file as it is written) into a temporary file that is then sent in chunks. The whole
export reads one snapshot (`snapshot`), so its files agree with each other even while the gerai keeps
selling.

Every text cell is made spreadsheet-safe (views.spreadsheet_safe): a product named `=HYPERLINK(…)` arrives
as text, not as a formula. Passwords and session keys are never exported.
"""
from __future__ import annotations

import csv
import io
import os
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterator

from marketplace.i18n import gettext as _
from marketplace.i18n import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import Boolean, Date, DateTime, Integer, Table, func, select

from marketplace.extensions import db
from marketplace.views import spreadsheet_safe

ROWS_PER_CHUNK = 1000
XLSX_MAX_ROWS = 1_048_576  # a sheet's limit; a longer table continues on a sheet "name (2)"
COPY_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Part:
    name: str      # the file name (name.csv) and the sheet name
    table: str
    about: object  # what one row is (lazy text)
    leave_out: tuple[str, ...] = ()


PARTS = (
    Part("cooperative", "cooperatives", _l("The cooperative's profile and settings.")),
    Part("accounts", "users", _l("Sign-in accounts of members and staff. Passwords and session keys are left out."),
         ("password_hash", "session_token")),
    Part("members", "members", _l("Members (UMKM): business, owner, WhatsApp, address, bank account for payouts.")),
    Part("join_requests", "join_requests", _l("Requests to join the gerai sent from the website, and their decision.")),
    Part("categories", "categories", _l("Product categories.")),
    Part("products", "products", _l("Products of the members, with their price and status.")),
    Part("agreements", "consignment_agreements", _l("Consignment agreements: a member's commission, valid from/to.")),
    Part("lots", "consignment_lots", _l("Lots: each intake of goods, with the price and commission snapshotted.")),
    Part("stock_ledger", "stock_movements",
         _l("The whole stock ledger: every movement of every lot (intake, sale, return, adjustment…); "
            "stock on hand is the sum of quantity per lot.")),
    Part("sales", "sales", _l("Sales at the counter and paid online orders.")),
    Part("sale_lines", "sale_lines", _l("Lines of the sales: which lot, how many, price and commission.")),
    Part("sale_voids", "sale_voids", _l("Voided sales: who voided them, when and why.")),
    Part("return_slips", "return_slips", _l("Slips of goods returned to members.")),
    Part("orders", "orders", _l("Online orders: shopper, total, payment method and status.")),
    Part("order_lines", "order_lines", _l("Lines of the online orders.")),
    Part("order_events", "order_events", _l("Every status change of every online order.")),
    Part("settlement_periods", "settlement_periods", _l("Settlement periods (monthly closings).")),
    Part("statements", "payouts", _l("Statements: what each member is paid for a period (gross, commission, fees, payable).")),
    Part("statement_lines", "payout_lines", _l("Which sale lines each statement covers.")),
    Part("statement_adjustments", "payout_adjustments", _l("Corrections carried on a statement.")),
    Part("payments", "payout_payments", _l("Payments of statements: method and reference.")),
    Part("product_photos", "product_photos", _l("Photos of the products: which product, the file's content hash and size.")),
    Part("payment_events", "payment_events", _l("Everything Midtrans said about each online order's payment.")),
    Part("site_pages", "site_pages", _l("The microsite's pages (about, contact, business units…).")),
    Part("news_posts", "news_posts", _l("The microsite's news posts.")),
    Part("board_members", "board_members", _l("The board (pengurus and pengawas) shown on the microsite.")),
    Part("stock_discrepancies", "stock_discrepancies",
         _l("Stock discrepancies: offline sales that sold more than the ledger had, and how each was resolved.")),
    Part("qris_payments", "counter_payments",
         _l("Dynamic QRIS payments at the counter: Midtrans order id and reference, total, status, refunds.")),
    Part("qris_payment_lines", "counter_payment_lines", _l("Lines of the QRIS payments (the goods held).")),
    Part("audit_log", "audit_events", _l("The audit log: who did what, when, from which address.")),
)

MONEY_COLUMNS = {"amount", "cash_received", "commission", "fees", "gross", "line_total", "payable", "price", "total",
                 "unit_price", "adjustments", "carried_forward", "statement_fee"}


def _table(part: Part) -> Table:
    return db.metadata.tables[part.table]


def columns(part: Part) -> list:
    return [column for column in _table(part).columns if column.name not in part.leave_out]


def header(part: Part) -> list[str]:
    return [column.name for column in columns(part)]


def _file_of_table() -> dict[str, str]:
    return {part.table: part.name for part in PARTS}


def describe_column(column) -> str:
    """What a column holds, in the reader's language (the README and the workbook's first sheet)."""
    name, kind = column.name, column.type
    if column.primary_key:
        return _("row number, unique in this file")
    if column.foreign_keys:
        target = next(iter(column.foreign_keys)).column.table.name
        return _("refers to the column id in %(file)s", file=_file_of_table().get(target, target) + ".csv")
    if name in MONEY_COLUMNS:
        return _("Rupiah, a whole number")
    if name.endswith("_bp"):
        return _("basis points: 1500 = 15 %")
    if isinstance(kind, Boolean):
        return _("yes/no: 1 or 0")
    if isinstance(kind, DateTime):
        return _("date and time, UTC")
    if isinstance(kind, Date):
        return _("date")
    if isinstance(kind, Integer):
        return _("whole number")
    return _("text")


def readme_text(coop_name: str, made_at: datetime) -> str:
    lines = [_("Data of %(coop)s, exported %(when)s UTC.", coop=coop_name, when=made_at.strftime("%Y-%m-%d %H:%M")),
             _("One CSV file per table (UTF-8, comma separated, first row = column names in English)."),
             _("Text that a spreadsheet would read as a formula starts with an apostrophe ('). "
               "Passwords and session keys are never exported."), ""]
    for part in PARTS:
        lines += [f"{part.name}.csv", "  " + str(part.about)]
        lines += [f"    {column.name}: {describe_column(column)}" for column in columns(part)]
        lines.append("")
    return "\n".join(lines)


@contextmanager
def snapshot() -> Iterator:
    """A connection of its own (not the request's session: the export runs while the response is sent),
    reading ONE snapshot of the database from its start to its end: PostgreSQL's REPEATABLE READ, SQLite's
    read transaction (WAL). Sales recorded meanwhile are in the next export, never half in this one."""
    engine = db.engine
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                connection.execute(select(func.count()).select_from(db.metadata.tables["sale_lines"]))  # pins it
                yield connection
        else:  # pysqlite begins only before writes: begin the read transaction by hand
            connection.exec_driver_sql("BEGIN")
            try:
                connection.execute(select(func.count()).select_from(db.metadata.tables["sale_lines"]))
                yield connection
            finally:
                connection.exec_driver_sql("COMMIT")


def rows(connection, part: Part) -> Iterator[tuple]:
    """The table's rows in id order, fetched ROWS_PER_CHUNK at a time from a server-side cursor."""
    table = _table(part)
    statement = select(*columns(part)).order_by(*table.primary_key.columns)
    yield from connection.execution_options(yield_per=ROWS_PER_CHUNK).execute(statement)


def csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return spreadsheet_safe(value)


def xlsx_cell(value):
    if isinstance(value, str):
        return spreadsheet_safe(ILLEGAL_CHARACTERS_RE.sub("", value))
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value


class _Sink(io.RawIOBase):
    """Where zipfile writes: collects bytes until the generator hands them to the response."""

    def __init__(self):
        super().__init__()
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def csv_zip_chunks(coop_name: str, made_at: datetime) -> Iterator[bytes]:
    """The ZIP of CSVs, as chunks of bytes, written while the rows are read."""
    sink = _Sink()
    with snapshot() as connection, zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", readme_text(coop_name, made_at).encode("utf-8"))
        yield sink.take()
        for part in PARTS:
            with archive.open(f"{part.name}.csv", "w", force_zip64=True) as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="", write_through=True)
                writer = csv.writer(text)
                writer.writerow(header(part))
                for n, row in enumerate(rows(connection, part), start=1):
                    writer.writerow([csv_cell(value) for value in row])
                    if n % ROWS_PER_CHUNK == 0:
                        yield sink.take()
                text.flush()
                text.detach()
            yield sink.take()
    yield sink.take()


def write_workbook(path: str, coop_name: str, made_at: datetime) -> None:
    """The XLSX workbook: a first sheet describing every column, then a sheet per table."""
    workbook = Workbook(write_only=True)
    about = workbook.create_sheet("README")
    about.append([_("Data of %(coop)s, exported %(when)s UTC.", coop=coop_name,
                    when=made_at.strftime("%Y-%m-%d %H:%M"))])
    about.append([_("sheet"), _("column"), _("meaning")])
    for part in PARTS:
        about.append([part.name, "", str(part.about)])
        for column in columns(part):
            about.append([part.name, column.name, describe_column(column)])
    with snapshot() as connection:
        for part in PARTS:
            sheet, written, number = workbook.create_sheet(part.name), 0, 1
            sheet.append(header(part))
            for row in rows(connection, part):
                if written == XLSX_MAX_ROWS - 1:
                    number += 1
                    sheet, written = workbook.create_sheet(f"{part.name} ({number})"), 0
                    sheet.append(header(part))
                sheet.append([xlsx_cell(value) for value in row])
                written += 1
    workbook.save(path)


def workbook_file(coop_name: str, made_at: datetime) -> str:
    """Write the workbook into a temporary file and return its path (the caller removes it)."""
    handle, path = tempfile.mkstemp(prefix="pasar-export-", suffix=".xlsx")
    os.close(handle)
    try:
        write_workbook(path, coop_name, made_at)
    except BaseException:
        remove_file(path)
        raise
    return path


def remove_file(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def file_chunks(path: str) -> Iterator[bytes]:
    """A file's bytes in chunks; the file is removed once sent (or the download was dropped)."""
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(COPY_CHUNK):
                yield chunk
    finally:
        remove_file(path)
