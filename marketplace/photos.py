"""Photo pipeline shared by product photos, board portraits, news covers and the cooperative's logo:
verify an upload, orient it, strip metadata, store WebP variants by content hash.

The original bytes are kept under MEDIA_ROOT/private (never served); the public WebP variants live
under MEDIA_ROOT/public/photos/<aa>/<sha256>-<width>.webp and are served with long cache headers.

Memory is bounded *before* anything is decoded: the size in the file's header gives the memory the
decode will need (bytes a pixel for its mode, JPEGs reduced on load, WebP's extra copies), and a file
over the budget (`MAX_DECODE_MB`) is refused without decoding it. Only one photo is decoded at a time
in a worker process, so uploads sent at once queue instead of adding up (bench/photo_memory.py measures).

The files of a content hash are shared by everyone who uploaded the same bytes; a column that refers
to a photo says so (`info=PHOTO_REFERENCE`), and the files are deleted only when no such column refers
to the hash any more (`release_photo`).
"""
from __future__ import annotations

import hashlib
import io
import os
import tempfile
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from marketplace.i18n import gettext as _
from PIL import Image, ImageFile, UnidentifiedImageError
from sqlalchemy import exists, or_, select

from .errors import DomainError
from .extensions import db

VARIANT_WIDTHS = (320, 640, 1280)
ACCEPTED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
WEBP_QUALITY = 80
MIN_SIDE = 100
# Orientation values that swap width and height once applied.
_TRANSPOSING_ORIENTATIONS = {5, 6, 7, 8}
# Pillow keeps every mode not listed here in 4 bytes a pixel (RGB included).
_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}
_SIXTEEN_BIT_MODES = {"I;16", "I;16B", "I;16L", "I;16N", "I"}
_CONVERTED_BEFORE_SHRINKING = {"1", "P", "PA"}  # Image.reduce cannot average palette indexes or bits
# libwebp decodes into a canvas of its own and Pillow copies the frame out of it: two more copies.
_WEBP_EXTRA_BYTES_PER_PIXEL = 8
# Baseline, extended and progressive Huffman JPEGs are taken; arithmetic-coded, lossless and
# hierarchical ones are refused (no phone makes them, and their data cannot be checked for completeness).
_JPEG_OTHER_FRAMES = {0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
# Zero bytes after the last scan instead of its end marker: a complete scan never reads them, an
# incomplete one runs out of data and is refused instead of being filled in with grey.
_JPEG_PADDING = b"\x00" * 64

# Public variants must be readable by a web server that serves MEDIA_ROOT/public itself (nginx runs
# as another user); originals are for the app alone.
PUBLIC_FILE_MODE = 0o644
PRIVATE_FILE_MODE = 0o600

# Marks a column holding a photo's content hash: the photo's files stay while any such column refers to it.
PHOTO_REFERENCE = {"photo_reference": True}

# At most one decode at a time in this process (threaded servers run several requests at once).
_DECODE_LOCK = threading.Lock()

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
    max_decode_bytes: int = 100 * 1024 * 1024

    @classmethod
    def from_config(cls, config) -> "PhotoLimits":
        return cls(
            max_bytes=config["MAX_UPLOAD_MB"] * 1024 * 1024,
            max_pixels=config["MAX_IMAGE_PIXELS"],
            max_side=config["MAX_IMAGE_SIDE"],
            max_decode_bytes=config["MAX_DECODE_MB"] * 1024 * 1024,
        )


# --- names and sizes of the variants ----------------------------------------------------------------

def variant_name(content_hash: str, width: int) -> str:
    """Where a photo's WebP variant of `width` lives under MEDIA_ROOT/public/photos."""
    return f"{content_hash[:2]}/{content_hash}-{width}.webp"


def variant_height(photo_width: int, photo_height: int, width: int) -> int:
    """Height of the variant `width` wide (variants are never wider than the photo)."""
    w = min(width, photo_width)
    return max(1, round(photo_height * w / photo_width))


@dataclass(frozen=True)
class PhotoRef:
    """A stored photo referred to by hash (board portraits, news covers, the logo): the same variants
    as product photos."""

    content_hash: str
    width: int
    height: int

    def variant_name(self, width: int) -> str:
        return variant_name(self.content_hash, width)

    def variant_height(self, width: int) -> int:
        return variant_height(self.width, self.height, width)


def photo_ref(content_hash: str, width: int, height: int) -> PhotoRef | None:
    return PhotoRef(content_hash, width, height) if content_hash and width and height else None


def public_dir(media_root: str | Path) -> Path:
    return Path(media_root) / "public" / "photos"


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


# --- checking an upload before decoding it -----------------------------------------------------------

def _damaged(label: str, error: object) -> PhotoRejected:
    return PhotoRejected(_("%(label)s: the image file is damaged or incomplete (%(error)s).", label=label,
                           error=error))


def _too_large(label: str, width: int, height: int, limits: PhotoLimits) -> PhotoRejected:
    return PhotoRejected(
        _("%(label)s: the image is too large (%(w)d×%(h)d pixels); at most %(side)d pixels a side and "
          "%(mp)d megapixels.", label=label, w=width, h=height, side=limits.max_side,
          mp=limits.max_pixels // 1_000_000))


def _check_dimensions(label: str, width: int, height: int, limits: PhotoLimits) -> None:
    if max(width, height) > limits.max_side or width * height > limits.max_pixels:
        raise _too_large(label, width, height, limits)
    if min(width, height) < MIN_SIDE:
        raise PhotoRejected(_("%(label)s: the image is too small (%(w)d×%(h)d pixels); at least %(min)d pixels.",
                              label=label, w=width, h=height, min=MIN_SIDE))


def _webp_size(data: bytes) -> tuple[int, int] | None:
    """Canvas size from a WebP file's first chunk, read before Pillow opens it (libwebp allocates the
    whole canvas on opening). None when the data is no WebP file this can read."""
    if len(data) < 30 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    chunk = data[12:16]
    if chunk == b"VP8X":
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 ":
        return int.from_bytes(data[26:28], "little") & 0x3FFF, int.from_bytes(data[28:30], "little") & 0x3FFF
    return None


def _open(data: bytes, label: str) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data), formats=list(ACCEPTED_FORMATS))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRejected(_("%(label)s: the image is too large to process (decompression bomb).", label=label))
    except UnidentifiedImageError:
        raise PhotoRejected(_("%(label)s: not a JPEG, PNG or WebP image.", label=label))
    except (OSError, SyntaxError, ValueError) as exc:
        raise _damaged(label, exc)


@dataclass(frozen=True)
class _JpegLayout:
    scans: int
    end: int  # offset of the end-of-image marker that follows the last scan
    entropy_bytes: int  # image data in the scans (markers excluded)


def _jpeg_layout(data: bytes, label: str) -> _JpegLayout:
    """Walk a JPEG's markers (headers only, no decoding): how many scans, how much image data, where
    it ends. Refuses a file whose scans never end and a kind of JPEG this pipeline does not take."""
    pos, scans, entropy, n = 2, 0, 0, len(data)
    while pos + 1 < n:
        if data[pos] != 0xFF:
            raise _damaged(label, "marker expected")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:
            if not scans:
                raise _damaged(label, "no image data")
            return _JpegLayout(scans=scans, end=pos, entropy_bytes=entropy)
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        if marker in _JPEG_OTHER_FRAMES:
            raise PhotoRejected(_("%(label)s: this kind of JPEG (arithmetic-coded, lossless or hierarchical) is "
                                  "not supported; save it again as an ordinary JPEG.", label=label))
        segment_end = pos + 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
        if marker != 0xDA:
            pos = segment_end
            continue
        scans += 1
        # The scan's data runs to the next marker that is neither a restart marker nor a stuffed 0xFF.
        i, restarts = segment_end, 0
        while True:
            j = data.find(b"\xff", i)
            if j < 0 or j + 1 >= n:
                raise _damaged(label, "image file is truncated")
            follower = data[j + 1]
            if follower == 0xFF:
                i = j + 1
            elif follower == 0x00 or 0xD0 <= follower <= 0xD7:
                restarts += follower != 0x00
                i = j + 2
            else:
                break
        entropy += j - segment_end - 2 * restarts
        pos = j
    raise _damaged(label, "image file is truncated")


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _jpeg_blocks(image: Image.Image) -> int:
    """8×8 blocks the JPEG's frame header declares, over all components (call before `draft`)."""
    width, height = image.size
    h_max = max(h for _id, h, _v, _q in image.layer)
    v_max = max(v for _id, _h, v, _q in image.layer)
    return sum(_ceil_div(_ceil_div(width * h, h_max), 8) * _ceil_div(_ceil_div(height * v, v_max), 8)
               for _id, h, v, _q in image.layer)


def _shrink_factor(width: int) -> int:
    """Integer factor the decoded image is reduced by before resizing: still at least twice the
    largest variant wide, so the final LANCZOS resize keeps its quality."""
    return max(1, width // (2 * max(VARIANT_WIDTHS)))


def _decode_cost(size: tuple[int, int], mode: str, fmt: str, upright_width: int, buffered: int = 0) -> int:
    """Bytes of image memory decoding and making the variants will need at most, from the header alone:
    the decoded image (Pillow's bytes a pixel for its mode), any full-size copy made before it can be
    shrunk, the decoder's own buffers (`buffered`, WebP's canvas), and the shrunk working copies."""
    width, height = size  # a JPEG's size here is already the reduced-on-load one
    pixels = width * height
    decoded = pixels * _BYTES_PER_PIXEL.get(mode, 4) + buffered
    if mode in _CONVERTED_BEFORE_SHRINKING:
        decoded += pixels * 4
    elif mode in _SIXTEEN_BIT_MODES:
        decoded += pixels  # scaled to 8 bits before shrinking
    if fmt == "WEBP":
        decoded += pixels * _WEBP_EXTRA_BYTES_PER_PIXEL
    factor = _shrink_factor(upright_width)
    working = _ceil_div(width, factor) * _ceil_div(height, factor) * 4
    return max(decoded + working, 2 * working)


@dataclass
class _Checked:
    image: Image.Image | None  # opened, not decoded; a JPEG set to reduce on load
    ext: str
    size: tuple[int, int]  # full size as stored
    orientation: int | None  # EXIF orientation; None: read once decoded (a PNG's may follow its pixels)


def _check_memory(label: str, size: tuple[int, int], need: int, limits: PhotoLimits) -> None:
    if need > limits.max_decode_bytes:
        raise PhotoRejected(
            _("%(label)s: the image needs too much memory to process (%(w)d×%(h)d pixels, about %(need)d MB; "
              "at most %(max)d MB). Send a smaller version, e.g. 3000 pixels wide.", label=label, w=size[0],
              h=size[1], need=_ceil_div(need, 1048576), max=limits.max_decode_bytes // 1048576))


def check_photo(data: bytes, label: str, limits: PhotoLimits) -> _Checked:
    """Check an upload from its headers without decoding it. Every refusal raises PhotoRejected with a
    message naming the photo and the reason."""
    if not data:
        raise PhotoRejected(_("%(label)s: the file is empty.", label=label))
    if len(data) > limits.max_bytes:
        raise PhotoRejected(
            _("%(label)s: the file is too large (%(size).1f MB); the limit is %(max)d MB.", label=label,
              size=len(data) / 1048576, max=limits.max_bytes // 1048576)
        )
    webp_size = _webp_size(data)
    if webp_size is not None:  # checked before opening: libwebp allocates its whole canvas on opening
        _check_dimensions(label, *webp_size, limits)
        _check_memory(label, webp_size, _decode_cost(webp_size, "RGBA", "WEBP", min(webp_size)), limits)
    image = _open(data, label)
    size, fmt = image.size, image.format
    _check_dimensions(label, *size, limits)
    buffered = 0
    if fmt == "PNG":
        try:
            image.verify()  # structural check (CRCs); the image must be reopened afterwards
        except (OSError, SyntaxError, ValueError) as exc:
            raise _damaged(label, exc)
        del image
        image = _open(data, label)
    elif fmt == "JPEG":
        layout = _jpeg_layout(data, label)
        blocks = _jpeg_blocks(image)
        # Every block costs at least one bit of Huffman-coded data in the first scan that covers it: a
        # header declaring more blocks than the data can hold lies about the image.
        if layout.entropy_bytes * 8 < blocks:
            raise _damaged(label, f"{layout.entropy_bytes} bytes of image data for {size[0]}×{size[1]} pixels")
        if layout.scans == 1:
            del image
            image = _open(data[:layout.end] + _JPEG_PADDING, label)
        else:  # a progressive JPEG keeps every DCT coefficient (2 bytes) until its last scan
            buffered = blocks * 64 * 2
    orientation = None
    if fmt == "JPEG":
        orientation = image.getexif().get(0x0112, 1)  # EXIF sits before the pixels in a JPEG
        # Decode at reduced scale (1/2, 1/4, 1/8) while the upright width stays at least the largest
        # variant's: faster, and far less memory.
        transposing = orientation in _TRANSPOSING_ORIENTATIONS
        image.draft("RGB", (1, max(VARIANT_WIDTHS)) if transposing else (max(VARIANT_WIDTHS), 1))
        upright_width = image.height if transposing else image.width
    else:  # Pillow decodes a PNG to find an EXIF chunk after its pixels: assume the narrower side
        upright_width = min(image.size)
    _check_memory(label, size, _decode_cost(image.size, image.mode, fmt, upright_width, buffered), limits)
    return _Checked(image=image, ext=ACCEPTED_FORMATS[fmt], size=size, orientation=orientation)


# --- decoding and the variants ---------------------------------------------------------------------

_ORIENTATION_TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
                          4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
                          6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_90}


def _working_image(checked: _Checked, label: str) -> Image.Image:
    """Decode, then shrink by an integer factor before anything makes a full-size copy; upright, in RGB
    or RGBA with 8 bits a channel. Takes the image from `checked`, so the full-size decode is freed as
    soon as it has been shrunk, and sets `checked.orientation`."""
    image, checked.image = checked.image, None
    try:
        image.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise _damaged(label, exc)
    if checked.orientation is None:
        checked.orientation = image.getexif().get(0x0112, 1)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if image.mode in _SIXTEEN_BIT_MODES:
        image = image.point(lambda v: v / 256, "L")  # 0..65535 to 0..255 (converting would clip at 255)
    elif image.mode in _CONVERTED_BEFORE_SHRINKING:
        image = image.convert("RGBA" if has_alpha else "RGB")
    transpose = _ORIENTATION_TRANSPOSE.get(checked.orientation)
    factor = _shrink_factor(image.height if checked.orientation in _TRANSPOSING_ORIENTATIONS else image.width)
    if factor > 1:
        image = image.reduce(factor)
    if transpose is not None:
        image = image.transpose(transpose)
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if has_alpha else "RGB")
    return image


def _upright(checked: _Checked) -> tuple[int, int]:
    """The photo's full size once turned upright (known once decoded)."""
    width, height = checked.size
    return (height, width) if checked.orientation in _TRANSPOSING_ORIENTATIONS else (width, height)


def _webp(image: Image.Image) -> bytes:
    out = io.BytesIO()
    # No exif/icc passed: the variants carry no EXIF or GPS data.
    image.save(out, "WEBP", quality=WEBP_QUALITY, method=4)
    return out.getvalue()


def _variants(checked: _Checked, label: str) -> dict[int, bytes]:
    """WebP bytes of each variant width; sizes follow the full upright size exactly."""
    current = _working_image(checked, label)
    full_width, full_height = _upright(checked)
    out = {}
    for target in sorted(VARIANT_WIDTHS, reverse=True):  # 1280 -> 640 -> 320, each from the last
        size = (min(target, full_width), variant_height(full_width, full_height, target))
        if current.size != size:
            current = current.resize(size, Image.Resampling.LANCZOS)
        out[target] = _webp(current)
    return out


def prepare_photo(data: bytes, label: str, limits: PhotoLimits) -> tuple[StoredPhoto, dict[int, bytes]]:
    """Validate and decode one upload (the only place a photo is decoded): what it will be stored as,
    and the WebP bytes of its variants. Nothing is written."""
    checked = check_photo(data, label, limits)
    with _DECODE_LOCK:
        variants = _variants(checked, label)
    width, height = _upright(checked)
    stored = StoredPhoto(content_hash=hashlib.sha256(data).hexdigest(), original_ext=checked.ext,
                         width=width, height=height)
    return stored, variants


def write_photo(media_root: str | Path, stored: StoredPhoto, data: bytes, variants: dict[int, bytes]) -> None:
    """Write a prepared photo's original (private) and variants (public) under their content hash."""
    original = _original_path(media_root, stored.content_hash, stored.original_ext)
    if not original.exists():
        _atomic_write(original, data, PRIVATE_FILE_MODE)
    for width, webp in variants.items():
        path = public_dir(media_root) / variant_name(stored.content_hash, width)
        if not path.exists():
            _atomic_write(path, webp, PUBLIC_FILE_MODE)


def store_photo(data: bytes, label: str, media_root: str | Path, limits: PhotoLimits) -> StoredPhoto:
    """Validate and store one uploaded photo; idempotent for identical bytes."""
    stored, variants = prepare_photo(data, label, limits)
    write_photo(media_root, stored, data, variants)
    return stored


def store_upload(data: bytes | None, filename: str, field: str) -> StoredPhoto | None:
    """Store one uploaded photo under the app's limits; PhotoRejected names the form `field`.

    None only when no file was sent; a file that was chosen but is empty is refused by name."""
    if data is None:
        return None
    try:
        return store_photo(data, filename or "foto", current_app.config["MEDIA_ROOT"],
                           PhotoLimits.from_config(current_app.config))
    except PhotoRejected as exc:
        exc.field = field
        raise


# --- deleting files nobody refers to any more -------------------------------------------------------

def photo_reference_columns() -> list:
    """Every column that holds a photo's content hash (marked with info=PHOTO_REFERENCE)."""
    return [column for table in db.metadata.sorted_tables for column in table.columns
            if column.info.get("photo_reference")]


def photo_in_use(content_hash: str) -> bool:
    """Does any product photo, board portrait, news cover or logo (any marked column) refer to it?"""
    return bool(db.session.scalar(select(or_(*[exists().where(column == content_hash)
                                               for column in photo_reference_columns()]))))


def delete_photo_files(media_root: str | Path, content_hash: str) -> None:
    """Remove a photo's files: its variants and its original, whatever its format."""
    paths = [public_dir(media_root) / variant_name(content_hash, w) for w in VARIANT_WIDTHS]
    paths += _original_path(media_root, content_hash, "x").parent.glob(f"{content_hash}.*")
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            pass


def release_photo(content_hash: str | None) -> None:
    """Call after committing a change that dropped a reference to `content_hash`: its files are
    deleted when nothing refers to it any more (other uploads of the same bytes share them)."""
    if content_hash and not photo_in_use(content_hash):
        delete_photo_files(current_app.config["MEDIA_ROOT"], content_hash)
