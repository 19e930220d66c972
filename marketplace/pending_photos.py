"""Photos kept between a failed form and the next submit, so a member on a thin line never uploads twice.

When a form with a chosen photo fails validation, the photo goes through the pipeline once
(`photos.prepare_photo`: checked, decoded, variants made) and the result is kept under
MEDIA_ROOT/private/pending/<token>/ — the token is random and unguessable, the files belong to the user
who sent them and expire after PENDING_PHOTO_HOURS (2). The form carries the token back in a checkbox
(`kept_photos`, checked; unchecking drops the photo); the next successful submit moves the prepared files
to their content-hash places without decoding again. Nothing is written on GET. Expired folders are
removed by `flask purge-pending-photos` and opportunistically whenever a photo is kept.
"""
from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, request
from flask_login import current_user
from marketplace.i18n import gettext as _

from .views import uploaded_file
from .photos import (PRIVATE_FILE_MODE, PhotoLimits, PhotoRejected, StoredPhoto, _atomic_write, prepare_photo,
                     store_upload, write_photo)

FIELD = "kept_photos"
PREVIEW_WIDTH = 320
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")


@dataclass(frozen=True)
class PendingPhoto:
    token: str
    filename: str


def pending_root(media_root: str | Path) -> Path:
    return Path(media_root) / "private" / "pending"


def _max_age_seconds() -> float:
    return float(current_app.config.get("PENDING_PHOTO_HOURS", 2)) * 3600


def _folder(token: str) -> Path | None:
    if not _TOKEN.match(token or ""):
        return None
    return pending_root(current_app.config["MEDIA_ROOT"]) / token


def _meta(token: str, owner_id: int) -> tuple[Path, dict] | None:
    """The folder and description of a kept photo, when it exists, belongs to `owner_id` and has not expired."""
    folder = _folder(token)
    if folder is None:
        return None
    try:
        meta = json.loads((folder / "meta.json").read_text())
    except (OSError, ValueError):
        return None
    if meta.get("owner") != owner_id or time.time() - meta.get("created", 0) > _max_age_seconds():
        return None
    return folder, meta


def keep(data: bytes, filename: str, owner_id: int, field: str) -> PendingPhoto:
    """Check, decode and keep one upload for `owner_id`; PhotoRejected (naming `field`) when it is no usable
    photo — then nothing is kept."""
    label = filename or "foto"
    try:
        stored, variants = prepare_photo(data, label, PhotoLimits.from_config(current_app.config))
    except PhotoRejected as exc:
        exc.field = field
        raise
    purge_all_expired()
    token = secrets.token_urlsafe(24)
    folder = pending_root(current_app.config["MEDIA_ROOT"]) / token
    _atomic_write(folder / "original", data, PRIVATE_FILE_MODE)
    for width, webp in variants.items():
        _atomic_write(folder / f"{width}.webp", webp, PRIVATE_FILE_MODE)
    meta = {"owner": owner_id, "filename": label, "created": time.time(), "content_hash": stored.content_hash,
            "ext": stored.original_ext, "width": stored.width, "height": stored.height,
            "widths": sorted(variants)}
    _atomic_write(folder / "meta.json", json.dumps(meta).encode(), PRIVATE_FILE_MODE)  # written last: complete
    return PendingPhoto(token=token, filename=label)


def find(tokens: list[str], owner_id: int) -> list[PendingPhoto]:
    """The kept photos among `tokens` that belong to `owner_id` and have not expired, in order, once each."""
    found: list[PendingPhoto] = []
    for token in dict.fromkeys(tokens):
        kept = _meta(token, owner_id)
        if kept is not None:
            found.append(PendingPhoto(token=token, filename=kept[1]["filename"]))
    return found


def store(pending: PendingPhoto, owner_id: int, field: str) -> StoredPhoto:
    """Move a kept photo's prepared files to their content-hash places (no second decode)."""
    kept = _meta(pending.token, owner_id)
    if kept is None:
        raise PhotoRejected(_expired_message(pending.filename), field=field)
    folder, meta = kept
    stored = StoredPhoto(content_hash=meta["content_hash"], original_ext=meta["ext"], width=meta["width"],
                         height=meta["height"])
    try:
        variants = {width: (folder / f"{width}.webp").read_bytes() for width in meta["widths"]}
        data = (folder / "original").read_bytes()
    except OSError:
        raise PhotoRejected(_expired_message(pending.filename), field=field)
    write_photo(current_app.config["MEDIA_ROOT"], stored, data, variants)
    return stored


def _expired_message(filename: str) -> str:
    return _("%(label)s: the kept photo has expired; choose it again.", label=filename)


def store_chosen(chosen: "tuple[str, bytes] | PendingPhoto | None", owner_id: int, field: str) -> StoredPhoto | None:
    """Store the one photo of a form: a new upload (filename, bytes), a kept photo, or nothing."""
    if isinstance(chosen, PendingPhoto):
        return store(chosen, owner_id, field)
    return store_upload(chosen[1], chosen[0], field) if chosen else None


def discard(pendings) -> None:
    """Remove kept photos once they have been stored (anything else in `pendings` is ignored)."""
    for pending in pendings:
        folder = _folder(pending.token) if isinstance(pending, PendingPhoto) else None
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def preview(token: str, owner_id: int) -> Path | None:
    """The small WebP preview of a kept photo, for its owner only."""
    kept = _meta(token, owner_id)
    if kept is None:
        return None
    folder, meta = kept
    width = min(meta["widths"], key=lambda w: abs(w - PREVIEW_WIDTH))
    return folder / f"{width}.webp"


def purge_all_expired() -> int:
    """Remove this instance's kept photos older than PENDING_PHOTO_HOURS; returns how many."""
    return purge_expired(current_app.config["MEDIA_ROOT"], _max_age_seconds())


def purge_expired(media_root: str | Path, max_age_seconds: float, now: float | None = None) -> int:
    """Remove kept photos older than `max_age_seconds` (by their folder's time); returns how many."""
    root = pending_root(media_root)
    if not root.is_dir():
        return 0
    now = time.time() if now is None else now
    removed = 0
    for folder in root.iterdir():
        try:
            if now - folder.stat().st_mtime > max_age_seconds:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        except FileNotFoundError:
            continue
    return removed


# --- for the routes of forms with photos -----------------------------------------------------------

def from_form(owner_id: int) -> list[PendingPhoto]:
    """The kept photos the submitted form still asks for (their checkboxes left ticked)."""
    return find(request.form.getlist(FIELD), owner_id) if request.method == "POST" else []


def keep_uploads(uploads: list[tuple[str, bytes]], kept: list[PendingPhoto], owner_id: int, form_field,
                 room: int) -> list[PendingPhoto]:
    """After a failed POST: keep the photos just sent (up to `room` photos in all, with those kept before)
    so the next submit need not send them again. A photo the pipeline refuses is not kept; its message
    goes to `form_field`."""
    if request.method != "POST":
        return kept
    kept = list(kept)
    for filename, data in uploads:
        if len(kept) >= room:
            break
        try:
            kept.append(keep(data, filename, owner_id, form_field.name))
        except PhotoRejected as exc:
            if exc.message not in form_field.errors:
                form_field.errors = list(form_field.errors) + [exc.message]
    return kept[:room]


def one_photo(field, owner_id: int | None = None) -> tuple["tuple[str, bytes] | PendingPhoto | None", list[PendingPhoto]]:
    """For a form with one photo field: what to store (a new upload wins over a kept one) and the photo
    kept from an earlier failed submit. `owner_id`: whose kept photos (default: the signed-in user)."""
    upload = uploaded_file(field.name)
    kept = from_form(current_user.id if owner_id is None else owner_id)[:1]
    return (upload or (kept[0] if kept else None)), kept


def keep_one(chosen, kept: list[PendingPhoto], field, owner_id: int | None = None) -> list[PendingPhoto]:
    """After a failed POST of a one-photo form: keep the new upload (replacing a kept one) or the kept one.
    A refused new upload leaves the kept one in place."""
    if isinstance(chosen, tuple):
        new = keep_uploads([chosen], [], current_user.id if owner_id is None else owner_id, field, 1)
        if new:
            discard(kept)
            return new
    return kept
