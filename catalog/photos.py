"""Photo pipeline: verify an upload, orient it, strip metadata, store WebP variants by content hash.

The original bytes are kept under MEDIA_ROOT/private (never served); the public WebP variants live
under MEDIA_ROOT/public/photos/<aa>/<sha256>-<width>.webp and are served with long cache headers.
"""
from __future__ import annotations

from flask_babel import gettext as _

import hashlib
import io
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from marketplace.errors import DomainError

from .models import VARIANT_WIDTHS, variant_name, variant_height

ACCEPTED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
WEBP_QUALITY = 80
MIN_SIDE = 100
# Orientation values that swap width and height once applied.
_TRANSPOSING_ORIENTATIONS = {5, 6, 7, 8}

ImageFile.LOAD_TRUNCATED_IMAGES = False


class PhotoRejected(DomainError):
    """The upload is not a photo we can use; the message says why."""


@dataclass(frozen=True)
class StoredPhoto:
    content_hash: str
    original_ext: str
    width: int   # after EXIF orientation
    height: int


@dataclass(frozen=True)
class PhotoLimits:
    max_bytes: int
    max_pixels: int
    max_side: int

    @classmethod
    def from_config(cls, config) -> "PhotoLimits":
        return cls(
            max_bytes=config["MAX_UPLOAD_MB"] * 1024 * 1024,
            max_pixels=config["MAX_IMAGE_PIXELS"],
            max_side=config["MAX_IMAGE_SIDE"],
        )


def public_dir(media_root: str | Path) -> Path:
    return Path(media_root) / "public" / "photos"


# Public variants must be readable by a web server that serves MEDIA_ROOT/public itself (nginx runs
# as another user); originals are for the app alone.
PUBLIC_FILE_MODE = 0o644
PRIVATE_FILE_MODE = 0o600


def _original_path(media_root: str | Path, content_hash: str, ext: str) -> Path:
    return Path(media_root) / "private" / "originals" / content_hash[:2] / f"{content_hash}.{ext}"


def _atomic_write(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")  # created 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _open(data: bytes, label: str) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data), formats=list(ACCEPTED_FORMATS))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRejected(_("%(label)s: the image is too large to process (decompression bomb).", label=label))
    except UnidentifiedImageError:
        raise PhotoRejected(_("%(label)s: not a JPEG, PNG or WebP image.", label=label))


def inspect_and_decode(data: bytes, label: str, limits: PhotoLimits) -> tuple[Image.Image, str, tuple[int, int]]:
    """Check an upload and decode it. Returns (oriented RGB/RGBA image, format ext, oriented full size).

    Every refusal raises PhotoRejected with a message naming the photo and the reason.
    """
    if not data:
        raise PhotoRejected(_("%(label)s: the file is empty.", label=label))
    if len(data) > limits.max_bytes:
        raise PhotoRejected(
            _("%(label)s: the file is too large (%(size).1f MB); the limit is %(max)d MB.", label=label,
              size=len(data) / 1048576, max=limits.max_bytes // 1048576)
        )
    image = _open(data, label)
    width, height = image.size
    if max(width, height) > limits.max_side or width * height > limits.max_pixels:
        raise PhotoRejected(
            _("%(label)s: the image is too large (%(w)d×%(h)d pixels); at most %(side)d pixels a side and "
              "%(mp)d megapixels.", label=label, w=width, h=height, side=limits.max_side,
              mp=limits.max_pixels // 1_000_000)
        )
    if min(width, height) < MIN_SIDE:
        raise PhotoRejected(_("%(label)s: the image is too small (%(w)d×%(h)d pixels); at least %(min)d pixels.", label=label, w=width, h=height, min=MIN_SIDE))
    fmt = image.format
    try:
        image.verify()  # structural check (PNG CRCs, etc.); the image must be reopened afterwards
        image = _open(data, label)
        orientation = image.getexif().get(0x0112, 1)
        if fmt == "JPEG":
            # Decode at reduced scale when the largest variant allows: faster, far less memory.
            image.draft("RGB", (max(VARIANT_WIDTHS), max(VARIANT_WIDTHS)))
        image.load()
    except PhotoRejected:
        raise
    except (OSError, SyntaxError, ValueError) as exc:
        raise PhotoRejected(_("%(label)s: the image file is damaged or incomplete (%(error)s).", label=label, error=exc))
    image = ImageOps.exif_transpose(image)
    if image.mode not in ("RGB", "RGBA"):
        has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
    oriented = (height, width) if orientation in _TRANSPOSING_ORIENTATIONS else (width, height)
    return image, ACCEPTED_FORMATS[fmt], oriented


def _webp(image: Image.Image) -> bytes:
    out = io.BytesIO()
    # No exif/icc passed: the variants carry no EXIF or GPS data.
    image.save(out, "WEBP", quality=WEBP_QUALITY, method=4)
    return out.getvalue()


def store_photo(data: bytes, label: str, media_root: str | Path, limits: PhotoLimits) -> StoredPhoto:
    """Validate and store one uploaded photo; idempotent for identical bytes."""
    image, ext, (width, height) = inspect_and_decode(data, label, limits)
    content_hash = hashlib.sha256(data).hexdigest()
    original = _original_path(media_root, content_hash, ext)
    if not original.exists():
        _atomic_write(original, data, PRIVATE_FILE_MODE)
    current = image
    for target in sorted(VARIANT_WIDTHS, reverse=True):  # 1280 -> 640 -> 320, each from the last
        path = public_dir(media_root) / variant_name(content_hash, target)
        w = min(target, image.width)
        h = max(1, round(image.height * w / image.width))
        if current.size != (w, h):
            current = current.resize((w, h), Image.Resampling.LANCZOS)
        if not path.exists():
            _atomic_write(path, _webp(current), PUBLIC_FILE_MODE)
    return StoredPhoto(content_hash=content_hash, original_ext=ext, width=width, height=height)


def store_upload(data: bytes | None, filename: str, field: str) -> StoredPhoto | None:
    """Store one uploaded photo under the app's limits; PhotoRejected names the form `field`."""
    from flask import current_app

    if not data:
        return None
    try:
        return store_photo(data, filename or "foto", current_app.config["MEDIA_ROOT"],
                           PhotoLimits.from_config(current_app.config))
    except PhotoRejected as exc:
        exc.field = field
        raise


def delete_photo_files(media_root: str | Path, content_hash: str, ext: str) -> None:
    """Remove a photo's files (call only when no ProductPhoto references the hash any more)."""
    paths = [_original_path(media_root, content_hash, ext)]
    paths += [public_dir(media_root) / variant_name(content_hash, w) for w in VARIANT_WIDTHS]
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            pass


@dataclass(frozen=True)
class PhotoRef:
    """A stored photo referred to by hash (board portraits, news covers): the same variants as products."""

    content_hash: str
    width: int
    height: int

    def variant_name(self, width: int) -> str:
        return variant_name(self.content_hash, width)

    def variant_height(self, width: int) -> int:
        return variant_height(self.width, self.height, width)


def photo_ref(content_hash: str, width: int, height: int) -> PhotoRef | None:
    return PhotoRef(content_hash, width, height) if content_hash and width and height else None
