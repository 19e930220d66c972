"""Listing many products at once from a spreadsheet (CSV or XLSX) and, optionally, a ZIP of their photos.

Three steps, so a member on a phone uploads once and sees every problem before anything is saved:

1. `start_import` takes the files, refuses a hostile or unreadable file as a whole (marketplace.safe_zip:
   zip bombs, path traversal, links, nested archives, too many entries; a spreadsheet over IMPORT_MAX_ROWS
   rows), and sends every photo a row names through the photo pipeline once (checked, decoded, variants
   made) — a refused photo is an error of its row. Photos are prepared in batches of IMPORT_BATCH_SECONDS
   (`continue_import`, one request each, the preview page sends them on by itself), so no request runs
   longer than a worker's timeout however many photos there are. The spreadsheet and the prepared photos are kept under
   MEDIA_ROOT/private/pending/import-<token>/, the token random and tied to the user who sent them; they
   expire with kept photos (PENDING_PHOTO_HOURS, `flask purge-pending-photos`) and are removed once used.
2. `load_plan` (the preview; reads only) checks every row against the catalog: each error says the row,
   the column and what to write instead; a row that matches one of the member's products (by SKU, else by
   its name, case and spaces aside) will update that product instead of adding a second one.
3. `confirm_import` checks again and saves every valid row in one transaction — products, their photos,
   their search entries and one audit event — acting once per one-time key (marketplace.once).
"""
from __future__ import annotations

import csv
import fcntl
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from marketplace.i18n import gettext as _
from marketplace.i18n import lazy_gettext as _l
from sqlalchemy import select

from marketplace import once
from marketplace import pending_photos
from marketplace.audit import record_event
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.models import AuditEvent, Member, User
from marketplace.money import MoneyError, parse_rupiah
from marketplace.photos import PhotoRejected
from marketplace.safe_zip import ArchiveRefused, EntryTooLarge, ZipLimits, open_checked, read_entry
from marketplace.text import slugify
from marketplace.timeutil import utcnow
from marketplace.transaction import transaction

from .models import (MAX_DESCRIPTION, MAX_PHOTOS, MAX_SKU, MAX_UNIT, STATUS_ARCHIVED, STATUS_DRAFT,
                     STATUS_PUBLISHED, Category, Product)
from .search import drain_outbox_quietly, queue_reindex
from .services import (MAX_PRICE, ProductData, _attach, _clean, _flush_refusing_a_taken_sku, _set_status, _unique_slug,
                       list_categories, owner_for_new_product)

ACTION = "product.import"
MAX_SHEET_BYTES = 10 * 1024 * 1024  # the spreadsheet file itself
XLSX_LIMITS = ZipLimits(max_entries=200, max_total_bytes=50 * 1024 * 1024, max_entry_bytes=50 * 1024 * 1024,
                        max_ratio=None, allow_nested=True)  # an .xlsx may embed images/objects; never opened
MAX_COLUMNS = 30
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")
_PHOTO_SPLIT = re.compile(r"[,;|\n]+")

# The template's columns (their names are the same in every language: a spreadsheet is data).
COLUMNS = ("nama", "harga", "satuan", "kategori", "deskripsi", "status", "foto", "sku")
REQUIRED = ("nama", "harga")
_ALIASES = {
    "nama": ("nama", "nama produk", "produk", "name", "product", "product name"),
    "harga": ("harga", "harga jual", "price"),
    "satuan": ("satuan", "unit"),
    "kategori": ("kategori", "category"),
    "deskripsi": ("deskripsi", "keterangan", "description"),
    "status": ("status",),
    "foto": ("foto", "nama file foto", "gambar", "photo", "photos", "image", "images"),
    "sku": ("sku", "kode", "kode produk", "code"),
}
HEADER_NAMES = {alias: column for column, aliases in _ALIASES.items() for alias in aliases}
STATUS_WORDS = {
    STATUS_DRAFT: ("draft", "draf", "konsep", "simpan", "disimpan", "belum", "sembunyi", "disembunyikan",
                   "hidden", "tidak", "no"),
    STATUS_PUBLISHED: ("terbit", "terbitkan", "diterbitkan", "tampil", "tampilkan", "ditampilkan", "tayang",
                       "publikasi", "dipublikasikan", "jual", "dijual", "aktif", "ya", "published", "publish",
                       "active", "yes"),
    STATUS_ARCHIVED: ("arsip", "diarsipkan", "archived", "archive"),
}
_STATUS_OF = {word: status for status, words in STATUS_WORDS.items() for word in words}

COLUMN_HELP = {
    "nama": _l("The product's name (required), e.g. Keripik Pisang Kepok 250 g. A product of the business "
               "with the same name is updated, not added a second time."),
    "harga": _l("The price in Rupiah (required): 15000, 15.000, Rp15.000, 15rb or 1,5jt."),
    "satuan": _l("The unit, e.g. pcs, bungkus 250 g, botol (at most %(n)d characters). Empty: pcs.", n=MAX_UNIT),
    "kategori": _l("A category of the shop, by its name. Empty: no category."),
    "deskripsi": _l("A description (optional), at most %(n)d characters.", n=MAX_DESCRIPTION),
    "status": _l("draft (not shown yet), terbit (shown in the storefront) or arsip. English words work too. "
                 "Empty: draft."),
    "foto": _l("File names of the product's photos in the ZIP, separated by commas, e.g. keripik-1.jpg, "
               "keripik-2.jpg (at most %(n)d; the first is the cover).", n=MAX_PHOTOS),
    "sku": _l("Your own product code (optional). A row with a code used before updates that product."),
}
EXAMPLE_ROWS = (
    ("Keripik Pisang Kepok 250 g", "15rb", "bungkus 250 g", "", "Renyah, tanpa pengawet.", "terbit",
     "keripik-pisang.jpg", "KPK-250"),
    ("Sambal Bawang 150 ml", "Rp22.500", "botol", "", "Pedas sedang.", "draft", "sambal-1.jpg, sambal-2.jpg", ""),
)


@dataclass(frozen=True)
class ImportFile:
    filename: str
    stream: BinaryIO


@dataclass
class ImportRow:
    """One row of the spreadsheet as the preview shows it and the import saves it."""

    number: int  # the spreadsheet's own row number (the header is row 1)
    cells: dict[str, str]
    errors: list[str] = field(default_factory=list)
    name: str = ""
    price: int | None = None
    unit: str = ""
    category_id: int | None = None
    category_name: str = ""
    description: str = ""
    status: str | None = None
    sku: str | None = None
    photos: list[dict] = field(default_factory=list)  # {"token", "hash", "filename"} of usable photos
    product: Product | None = None  # the member's product this row updates

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def updates(self) -> bool:
        return self.product is not None


@dataclass
class ImportPlan:
    token: str
    member: Member
    filename: str
    columns: list[str]
    ignored_columns: list[str]
    rows: list[ImportRow]
    photos_total: int = 0  # photos the rows name that are in the ZIP
    photos_left: int = 0  # of those, not prepared yet (continue_import)

    @property
    def ready(self) -> list[ImportRow]:
        return [row for row in self.rows if row.ok]

    @property
    def new_count(self) -> int:
        return sum(1 for row in self.ready if not row.updates)

    @property
    def update_count(self) -> int:
        return sum(1 for row in self.ready if row.updates)

    @property
    def error_count(self) -> int:
        return len(self.rows) - len(self.ready)


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    skipped: int
    member_id: int


# --- where the files wait between the preview and the import ---------------------------------------------

def _folder(token: str) -> Path | None:
    if not _TOKEN.match(token or ""):
        return None
    return pending_photos.pending_root(current_app.config["MEDIA_ROOT"]) / f"import-{token}"


def _max_rows() -> int:
    return int(current_app.config.get("IMPORT_MAX_ROWS", 1000))


def _zip_limits() -> ZipLimits:
    config = current_app.config
    return ZipLimits(max_entries=int(config.get("IMPORT_MAX_ZIP_FILES", 2000)),
                     max_total_bytes=int(config.get("IMPORT_MAX_ZIP_MB", 1000)) * 1024 * 1024,
                     max_entry_bytes=int(config["MAX_UPLOAD_MB"]) * 1024 * 1024)


def _save(upload: ImportFile, path: Path, limit: int | None, too_large: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    with open(path, "wb") as out:
        while chunk := upload.stream.read(1024 * 1024):
            size += len(chunk)
            if limit is not None and size > limit:
                raise DomainError(too_large)
            out.write(chunk)
    path.chmod(0o600)


def _sheet_kind(filename: str) -> str:
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        return "xlsx"
    if name.endswith((".csv", ".txt")):
        return "csv"
    raise DomainError(_("Send the product list as a CSV or XLSX file (in Excel: Save As → CSV or Excel "
                        "Workbook); “%(name)s” is neither.", name=filename), field="sheet")


# --- reading the spreadsheet -----------------------------------------------------------------------------

def _header_column(text: str) -> str | None:
    key = re.sub(r"\(.*?\)|\*", "", str(text or "")).strip().lower()
    return HEADER_NAMES.get(" ".join(key.replace("_", " ").split()))


def _cell_text(value) -> str:
    """A cell as text; a formula stays the text that was typed (it is never run)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _csv_rows(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")  # Excel's "CSV" on Windows
    first = next((line for line in text.splitlines() if line.strip(",;\t ")), "")  # the header
    delimiter = max((";", ",", "\t"), key=first.count)  # Excel in Indonesia separates with ';'
    limit, rows, filled = _max_rows(), [], 0
    try:
        for cells in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            rows.append(cells[:MAX_COLUMNS])
            filled += any(c.strip() for c in cells)
            if filled > limit + 1:  # the header and one row too many: enough to refuse the file
                break
    except csv.Error as exc:
        raise DomainError(_("The CSV file cannot be read (%(error)s).", error=str(exc)[:100]), field="sheet")
    return rows


def _filled(cells) -> bool:
    return any(_cell_text(c) for c in cells)


def _xlsx_rows(path: Path, label: str) -> list[list[str]]:
    # The workbook is a ZIP: checked like any uploaded archive before openpyxl opens it.
    try:
        open_checked(str(path), label, XLSX_LIMITS).close()
    except ArchiveRefused as exc:
        exc.field = "sheet"
        raise
    import openpyxl

    limit, rows, filled = _max_rows(), [], 0
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a damaged workbook
        raise DomainError(_("The XLSX file cannot be read (%(error)s).", error=str(exc)[:100]), field="sheet")
    try:
        sheet = workbook[workbook.sheetnames[0]]
        for values in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS):
            cells = [_cell_text(v) for v in values]
            rows.append(cells if any(cells) else [])
            filled += bool(rows[-1])
            if filled > limit + 1 or len(rows) > 20 * limit:  # a sheet of empty rows ends here too
                break
    except Exception as exc:  # noqa: BLE001
        raise DomainError(_("The XLSX file cannot be read (%(error)s).", error=str(exc)[:100]), field="sheet")
    finally:
        workbook.close()
    return rows


def read_sheet(path: Path, kind: str, label: str) -> tuple[list[str], list[str], list[tuple[int, dict[str, str]]]]:
    """(known columns, ignored headers, [(row number, {column: text})]) of a spreadsheet; DomainError when
    the file as a whole cannot be used."""
    rows = _xlsx_rows(path, label) if kind == "xlsx" else _csv_rows(path)
    header_number = 1
    while rows and not _filled(rows[0]):
        rows.pop(0)  # the header is the first row with anything in it
        header_number += 1
    if not rows:
        raise DomainError(_("The file is empty: the first row names the columns, e.g. nama, harga."),
                          field="sheet")
    headers = [_header_column(h) for h in rows[0]]
    ignored = [str(h) for h, c in zip(rows[0], headers) if c is None and _cell_text(h)]
    missing = [c for c in REQUIRED if c not in headers]
    if missing:
        raise DomainError(_("The first row must name the columns; the column(s) %(missing)s are missing. "
                            "Download the template to see them.", missing=", ".join(missing)), field="sheet")
    if sum(1 for cells in rows[1:] if _filled(cells)) > _max_rows():
        raise DomainError(_("The file has more than %(n)d rows of products; split it into smaller files.",
                            n=_max_rows()), field="sheet")
    data = []
    for offset, cells in enumerate(rows[1:], start=1):
        values = {}
        for column, value in zip(headers, cells):
            if column is not None and column not in values:
                values[column] = _cell_text(value)
        if any(values.values()):
            data.append((header_number + offset, values))
    if not data:
        raise DomainError(_("The file has no product rows under its header."), field="sheet")
    return [c for c in COLUMNS if c in headers], ignored, data


def _photo_names(text: str) -> list[str]:
    return [name.strip() for name in _PHOTO_SPLIT.split(text or "") if name.strip()]


def _photo_key(name: str) -> str:
    return name.strip().replace("\\", "/").lower()


# --- step 1: taking the files ------------------------------------------------------------------------------

def start_import(actor: User, member_id: int | None, sheet: ImportFile, photos: ImportFile | None = None) -> str:
    """Keep the files for a preview, check them as a whole, and prepare a first batch of the photos the rows
    name (`continue_import` prepares the rest); returns the import's token. DomainError (with `field`
    "sheet" or "photos") when a file as a whole is refused; nothing is kept then."""
    member = owner_for_new_product(actor, member_id)
    kind = _sheet_kind(sheet.filename)
    started = time.time()  # the import expires no later than the photos it keeps
    pending_photos.purge_all_expired()
    token = secrets.token_urlsafe(24)
    folder = _folder(token)
    state = {"results": {}, "todo": [], "total": 0, "read_bytes": 0, "kept": []}
    try:
        sheet_path = folder / f"sheet.{kind}"
        _save(sheet, sheet_path, MAX_SHEET_BYTES,
              _("The spreadsheet is larger than %(n)d MB; split it into smaller files.",
                n=MAX_SHEET_BYTES // 1048576))
        _columns, _ignored, rows = read_sheet(sheet_path, kind, sheet.filename)
        if photos is not None:
            _save(photos, folder / "photos.zip", None, "")
            _plan_photos(folder / "photos.zip", photos.filename, rows, state)
        meta = {"owner": actor.id, "member_id": member.id, "filename": sheet.filename[:200], "kind": kind,
                "photos_filename": photos.filename[:200] if photos else "", "created": started}
        _write_state(folder, state)
        (folder / "meta.json").write_text(json.dumps(meta))  # written last: the import is complete
        _prepare_batch(actor, folder, meta, state)
    except BaseException:
        _remove(folder, state)
        raise
    return token


def continue_import(actor: User, token: str) -> tuple[int, int]:
    """Prepare the next batch of photos of a kept import (IMPORT_BATCH_SECONDS of work, at least one photo);
    returns (photos prepared, photos in all). Harmless to send twice: a batch already under way is left
    to its request. ArchiveRefused (and the import removed) when reading the ZIP shows it hostile."""
    folder, meta = _meta(actor, token)
    with open(folder / "meta.json") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # another request is preparing this import's photos
            state = _read_state(folder)
            return state["total"] - len(state["todo"]), state["total"]
        state = _read_state(folder)
        try:
            _prepare_batch(actor, folder, meta, state)
        except ArchiveRefused:
            _remove(folder, state)
            raise
    return state["total"] - len(state["todo"]), state["total"]


def _read_state(folder: Path) -> dict:
    return json.loads((folder / "photos.json").read_text())


def _write_state(folder: Path, state: dict) -> None:
    tmp = folder / "photos.json.tmp"
    tmp.write_text(json.dumps(state))
    os.replace(tmp, folder / "photos.json")


def _remove(folder: Path, state: dict) -> None:
    pending_photos.discard([pending_photos.PendingPhoto(token=t, filename="") for t in state.get("kept", [])])
    shutil.rmtree(folder, ignore_errors=True)


def _open_photos(folder: Path, label: str):
    try:
        return open_checked(str(folder / "photos.zip"), label, _zip_limits())
    except ArchiveRefused as exc:
        exc.field = "photos"
        raise


def _plan_photos(zip_path: Path, label: str, rows, state: dict) -> None:
    """Check the ZIP as a whole and find each photo a row names: the entries to prepare (`todo`, each
    once however many rows name it) and the names that are missing or ambiguous (`results`)."""
    archive = _open_photos(zip_path.parent, label)
    try:
        by_path, by_base = {}, {}
        for name in archive.entries:
            if name.startswith("__MACOSX/") or name.rsplit("/", 1)[-1].startswith("._"):
                continue  # resource forks a Mac adds to a ZIP
            by_path[name.lower()] = name
            by_base.setdefault(name.rsplit("/", 1)[-1].lower(), []).append(name)
    finally:
        archive.close()
    wanted = {_photo_key(n): n for _number, cells in rows for n in _photo_names(cells.get("foto", ""))}
    todo: dict[str, dict] = {}
    for key, written in wanted.items():
        found = by_path.get(key)
        candidates = [found] if found is not None else by_base.get(key.rsplit("/", 1)[-1], [])
        if not candidates:
            state["results"][key] = {"missing": True}
        elif len(candidates) > 1:
            state["results"][key] = {"error": _("“%(name)s” is in several folders of the ZIP; write the folder "
                                                "too, e.g. %(example)s.", name=written, example=candidates[0])}
        else:
            todo.setdefault(candidates[0], {"entry": candidates[0], "written": written, "keys": []})["keys"].append(key)
    state["todo"], state["total"] = list(todo.values()), len(todo)


def _prepare_batch(actor: User, folder: Path, meta: dict, state: dict) -> None:
    """Prepare photos from `todo` for IMPORT_BATCH_SECONDS (at least one), saving the state after each."""
    if not state["todo"]:
        return
    budget = float(current_app.config.get("IMPORT_BATCH_SECONDS", 5))
    started = time.monotonic()
    archive = _open_photos(folder, meta["photos_filename"])
    archive.read_bytes = state["read_bytes"]
    try:
        while state["todo"]:
            item = state["todo"][0]
            result = _prepare_one(actor, archive, archive.entries[item["entry"]], item["written"])
            if "token" in result:
                state["kept"].append(result["token"])
            for key in item["keys"]:
                state["results"][key] = result
            state["todo"].pop(0)
            state["read_bytes"] = archive.read_bytes
            _write_state(folder, state)
            if time.monotonic() - started >= budget:
                break
    except ArchiveRefused as exc:
        exc.field = "photos"
        raise
    finally:
        archive.close()
    if not state["todo"]:
        (folder / "photos.zip").unlink(missing_ok=True)


def _prepare_one(actor: User, archive, info, written: str) -> dict:
    try:
        data = read_entry(archive, info, written)
        photo = pending_photos.keep(data, written, actor.id, "photos")
    except (EntryTooLarge, PhotoRejected) as exc:
        return {"error": exc.message}
    return {"token": photo.token, "hash": hashlib.sha256(data).hexdigest(), "filename": written}


# --- step 2: the plan (the preview) ----------------------------------------------------------------------

def _meta(actor: User, token: str) -> tuple[Path, dict]:
    folder = _folder(token)
    expired = DomainError(_("This import has expired or was already saved; upload the file again."))
    if folder is None:
        raise expired
    try:
        meta = json.loads((folder / "meta.json").read_text())
    except (OSError, ValueError):
        raise expired
    max_age = float(current_app.config.get("PENDING_PHOTO_HOURS", 2)) * 3600
    if meta.get("owner") != actor.id or time.time() - meta.get("created", 0) > max_age:
        raise expired
    return folder, meta


def import_exists(actor: User, token: str) -> bool:
    try:
        _meta(actor, token)
    except DomainError:
        return False
    return True


def load_plan(actor: User, token: str) -> ImportPlan:
    """Every row of a kept import checked against the catalog as it is now. Reads only."""
    folder, meta = _meta(actor, token)
    member = owner_for_new_product(actor, meta["member_id"])
    columns, ignored, data = read_sheet(folder / f"sheet.{meta['kind']}", meta["kind"], meta["filename"])
    state = _read_state(folder)
    waiting = {key for item in state["todo"] for key in item["keys"]}
    rows = [ImportRow(number=number, cells=cells) for number, cells in data]
    _check_rows(member, rows, state["results"], waiting, bool(meta.get("photos_filename")))
    return ImportPlan(token=token, member=member, filename=meta["filename"], columns=columns,
                      ignored_columns=ignored, rows=rows, photos_total=state["total"],
                      photos_left=len(state["todo"]))


def _norm(name: str) -> str:
    return " ".join((name or "").split()).casefold()


def _error(row: ImportRow, column: str, problem: str) -> None:
    row.errors.append(_("Row %(row)d, column %(column)s: %(problem)s", row=row.number, column=column,
                        problem=problem))


def _check_rows(member: Member, rows: list[ImportRow], photo_results: dict, waiting: set[str],
                has_zip: bool) -> None:
    categories = {_norm(c.name): c for c in list_categories()}
    products = list(db.session.scalars(select(Product).where(Product.member_id == member.id)))
    by_sku = {p.sku.casefold(): p for p in products if p.sku}
    by_name: dict[str, list[Product]] = {}
    for product in products:
        by_name.setdefault(_norm(product.name), []).append(product)
    seen_names: dict[str, int] = {}
    seen_skus: dict[str, int] = {}
    for row in rows:
        _check_cells(row, categories)
        _check_photos(row, photo_results, waiting, has_zip)
        if not row.name:
            continue
        _match(member, row, by_sku, by_name)
        for key, seen in ((_norm(row.name), seen_names), ((row.sku or "").casefold(), seen_skus)):
            if key and key in seen:
                _error(row, "nama" if seen is seen_names else "sku",
                       _("the same product as row %(other)d; list each product once.", other=seen[key]))
            elif key:
                seen[key] = row.number
        if row.product is not None and row.photos:
            have = {p.content_hash for p in row.product.photos}
            row.photos = [p for p in row.photos if p["hash"] not in have]
            if len(row.product.photos) + len(row.photos) > MAX_PHOTOS:
                _error(row, "foto", _("at most %(n)d photos per product; it has %(have)d already.", n=MAX_PHOTOS,
                                      have=len(row.product.photos)))


def _check_cells(row: ImportRow, categories: dict[str, Category]) -> None:
    cells = row.cells
    row.name = " ".join(cells.get("nama", "").split())
    if not row.name:
        _error(row, "nama", _("write the product's name."))
    elif len(row.name) > 200:
        _error(row, "nama", _("at most %(n)d characters (this one has %(have)d).", n=200, have=len(row.name)))
    typed = cells.get("harga", "")
    if not typed:
        _error(row, "harga", _("write the price, e.g. 15000 or 15rb."))
    else:
        try:
            row.price = parse_rupiah(typed)
        except MoneyError as exc:
            _error(row, "harga", _("“%(typed)s” is not a price. %(hint)s", typed=typed, hint=exc.message))
        else:
            if row.price <= 0 or row.price > MAX_PRICE:
                _error(row, "harga", _("the price must be more than Rp0 and at most Rp1.000.000.000."))
                row.price = None
    row.unit = cells.get("satuan", "")
    if len(row.unit) > MAX_UNIT:
        _error(row, "satuan", _("at most %(n)d characters (this one has %(have)d).", n=MAX_UNIT, have=len(row.unit)))
    row.description = cells.get("deskripsi", "")
    if len(row.description) > MAX_DESCRIPTION:
        _error(row, "deskripsi", _("at most %(n)d characters (this one has %(have)d).", n=MAX_DESCRIPTION,
                                   have=len(row.description)))
    category = cells.get("kategori", "")
    if category:
        found = categories.get(_norm(category))
        if found is None:
            names = ", ".join(c.name for c in categories.values()) or "—"
            _error(row, "kategori", _("there is no category “%(typed)s”; write one of: %(names)s, or leave it "
                                      "empty.", typed=category, names=names))
        else:
            row.category_id, row.category_name = found.id, found.name
    if cells.get("status"):
        row.status = _STATUS_OF.get(_norm(cells["status"]))
        if row.status is None:
            _error(row, "status", _("“%(typed)s” is not a status; write draft, terbit or arsip.",
                                    typed=cells["status"]))
    sku = cells.get("sku", "")
    if len(sku) > MAX_SKU:
        _error(row, "sku", _("at most %(n)d characters (this one has %(have)d).", n=MAX_SKU, have=len(sku)))
    row.sku = sku or None


def _check_photos(row: ImportRow, photo_results: dict, waiting: set[str], has_zip: bool) -> None:
    names = _photo_names(row.cells.get("foto", ""))
    if names and not has_zip:
        _error(row, "foto", _("the photos named here need a ZIP of photos sent with the file."))
        return
    if len(names) > MAX_PHOTOS:
        _error(row, "foto", _("at most %(n)d photos per product (this row names %(have)d).", n=MAX_PHOTOS,
                              have=len(names)))
        return
    for name in names:
        if _photo_key(name) in waiting:
            continue  # not prepared yet: the preview says how many photos are still being checked
        result = photo_results.get(_photo_key(name), {"missing": True})
        if result.get("missing"):
            _error(row, "foto", _("“%(name)s” is not in the ZIP of photos; check the file name.", name=name))
        elif "error" in result:
            _error(row, "foto", result["error"])
        elif result["hash"] not in {p["hash"] for p in row.photos}:
            row.photos.append(result)


def _match(member: Member, row: ImportRow, by_sku: dict, by_name: dict) -> None:
    """The member's product this row updates, if any: the same SKU, else the same name."""
    if row.sku and row.sku.casefold() in by_sku:
        row.product = by_sku[row.sku.casefold()]
        return
    named = by_name.get(_norm(row.name), [])
    if len(named) > 1:
        _error(row, "nama", _("%(business)s has %(n)d products named “%(name)s”; add a sku column to say which "
                              "one.", business=member.business_name, n=len(named), name=row.name))
    elif named:
        if row.sku and named[0].sku:
            _error(row, "sku", _("the product “%(name)s” has the code %(sku)s; write that code, or another name "
                                 "for a new product.", name=named[0].name, sku=named[0].sku))
        else:
            row.product = named[0]


# --- step 3: saving ----------------------------------------------------------------------------------------

def confirm_import(actor: User, token: str, once_key: str | None = None) -> ImportResult:
    """Save every valid row of a kept import in one transaction; rows with errors are skipped. A second
    request with the same one-time key gets the first one's result and saves nothing."""
    with transaction(after_commit=drain_outbox_quietly):
        first = once.claim(once_key, ACTION, actor)
        if first is not None:
            return _result_of(first)
        plan = load_plan(actor, token)
        if plan.photos_left:
            raise DomainError(_("The photos are still being checked (%(left)d of %(total)d left); wait until "
                                "that is done.", left=plan.photos_left, total=plan.photos_total))
        if not plan.ready:
            raise DomainError(_("No row can be saved yet: correct the rows with errors and upload the file again."))
        for row in plan.ready:
            _save_row(actor, plan.member, row)
        result = ImportResult(created=plan.new_count, updated=plan.update_count, skipped=plan.error_count,
                              member_id=plan.member.id)
        event = record_event(actor, ACTION, plan.member,
                             f"{plan.filename}: {result.created} new, {result.updated} updated, "
                             f"{result.skipped} skipped", member=plan.member.business_name, file=plan.filename,
                             created=result.created, updated=result.updated, skipped=result.skipped)
        db.session.flush()
        once.remember(once_key, event.id)
    discard(actor, token)
    return result


def _save_row(actor: User, member: Member, row: ImportRow) -> None:
    """Add or update the row's product. An empty cell leaves an existing product's field as it is."""
    product = row.product
    if product is None:
        data = _clean(ProductData(name=row.name, price=row.price, unit=row.unit or "pcs", description=row.description,
                                  category_id=row.category_id, status=row.status or STATUS_DRAFT))
        product = Product(member=member, name=data.name, slug=_unique_slug(Product, slugify(data.name)),
                          description=data.description, price=data.price, unit=data.unit,
                          category_id=data.category_id, status=data.status, sku=row.sku,
                          published_at=utcnow() if data.status == STATUS_PUBLISHED else None)
        db.session.add(product)
    else:
        data = _clean(ProductData(
            name=row.name, price=row.price, unit=row.unit or product.unit,
            description=row.description or product.description,
            category_id=row.category_id if row.category_id is not None else product.category_id,
            status=row.status or product.status))
        product.name, product.price, product.unit = data.name, data.price, data.unit
        product.description, product.category_id = data.description, data.category_id
        _set_status(product, data.status)
        if row.sku and (product.sku or "").casefold() != row.sku.casefold():
            product.sku = row.sku
    _flush_refusing_a_taken_sku(row.sku)  # a code given on the product form since the preview: a message
    if row.photos:
        kept = [pending_photos.PendingPhoto(token=p["token"], filename=p["filename"]) for p in row.photos]
        _attach(product, [pending_photos.store(k, actor.id, "photos") for k in kept])
        db.session.flush()
    queue_reindex(product)


def _result_of(event_id: int) -> ImportResult:
    event = db.session.get(AuditEvent, event_id)
    params = json.loads(event.params) if event is not None and event.params else {}
    return ImportResult(created=params.get("created", 0), updated=params.get("updated", 0),
                        skipped=params.get("skipped", 0), member_id=event.object_id if event else 0)


def discard(actor: User, token: str) -> None:
    """Remove a kept import and its prepared photos (after it was saved, or when its user drops it)."""
    try:
        folder, _meta_data = _meta(actor, token)
    except DomainError:
        return
    _remove(folder, _read_state(folder))


# --- the template ------------------------------------------------------------------------------------------

def template_rows() -> tuple[list[str], list[tuple[str, ...]]]:
    """The template's header and example rows (the first category of the shop in the first example)."""
    categories = list_categories()
    first = categories[0].name if categories else ""
    rows = [EXAMPLE_ROWS[0][:3] + (first,) + EXAMPLE_ROWS[0][4:], EXAMPLE_ROWS[1]]
    return list(COLUMNS), rows


def template_xlsx() -> bytes:
    """The template as a workbook: the products sheet with two example rows, and a sheet explaining each
    column."""
    import openpyxl
    from openpyxl.styles import Font

    header, rows = template_rows()
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Produk"
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(list(row))
    for letter, width in zip("ABCDEFGH", (34, 12, 16, 18, 36, 10, 34, 12)):
        sheet.column_dimensions[letter].width = width
    help_sheet = workbook.create_sheet(_("Instructions")[:31])
    help_sheet.append([_("Column"), _("What to write")])
    for cell in help_sheet[1]:
        cell.font = Font(bold=True)
    for column in COLUMNS:
        help_sheet.append([column, str(column_help()[column])])
    help_sheet.append([])
    help_sheet.append([_("Replace the example rows with your products. Only the first sheet is read; at most "
                         "%(n)d rows a file.", n=_max_rows())])
    help_sheet.column_dimensions["A"].width = 12
    help_sheet.column_dimensions["B"].width = 100
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def column_help() -> dict[str, str]:
    categories = ", ".join(c.name for c in list_categories())
    texts = {column: str(text) for column, text in COLUMN_HELP.items()}
    if categories:
        texts["kategori"] += " " + _("Categories: %(names)s.", names=categories)
    return texts
