"""Helpers shared by the thin routes of every package."""
from __future__ import annotations

import csv
import io
from urllib.parse import urlsplit

from flask import Response, flash, request
from flask_wtf import FlaskForm

from .errors import DomainError


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


def csv_download(filename: str, header: list[str], rows) -> Response:
    """A CSV file download of `rows` under `header`."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
