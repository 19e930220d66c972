"""Peak memory of the photo pipeline per upload, each case measured in a fresh process.

    python -m bench.photo_memory                      # build the cases, print the table
    python -m bench.photo_memory worker FILE MEDIA    # (internal) process one file, print JSON

A worker first stores a small photo (as a long-running app worker would have done: libraries loaded,
caches warm), then reads the case's bytes, notes its resident set (VmRSS), processes the file with the
app's default limits and reports the high-water mark (VmHWM) above that: the *extra* memory one upload
costs. ru_maxrss is not used: Linux carries it over from the parent across fork and exec.
The hostile files are built with Pillow here; the tests use the same builders (tests/conftest.py).
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
EXTRA_MB_LIMIT = 150  # no accepted or refused upload may cost a worker more than this


# --- the files a phone (or an attacker) sends -------------------------------------------------------

def camera_jpeg() -> bytes:
    """A 12-megapixel camera photo (4032x3024 stored, EXIF Orientation=6: portrait when viewed),
    grainy like a real one, so it is about 3.4 MB."""
    size = (4032, 3024)
    base = Image.linear_gradient("L").resize(size).convert("RGB")
    grain = Image.effect_noise((size[0] // 4, size[1] // 4), 60).resize(size).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    Image.blend(base, grain, 0.5).save(out, "JPEG", quality=92, exif=exif)
    return out.getvalue()


def big_rgba_png(size=(12000, 4166)) -> bytes:
    """A banner-shaped RGBA PNG of 50 megapixels that compresses to about 190 KB: 200 MB once decoded."""
    image = Image.new("RGBA", size, (30, 110, 60, 255))
    draw = ImageDraw.Draw(image)
    for i in range(0, size[0], 1500):
        draw.ellipse((i, size[1] // 4, i + 1000, size[1] // 4 + 1000), fill=(240, 200, 40, 180))
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=9)
    return out.getvalue()


def bomb() -> bytes:
    """A small PNG file that decodes to 20000x20000 pixels (400 megapixels)."""
    out = io.BytesIO()
    Image.new("1", (20000, 20000), 0).save(out, "PNG", optimize=True)
    return out.getvalue()


def png16(size=(4000, 3000), top: int = 6000) -> bytes:
    """A dark 16-bit greyscale PNG (mode I;16): a gradient from 0 at the left to `top` (of 65535) at the right."""
    row = Image.linear_gradient("L").rotate(90).resize((size[0], 1))  # 0 at the left, 255 at the right
    image = row.resize(size).convert("I").point(lambda v: v * top / 255).convert("I;16")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def corrupt_jpeg(declared=(11000, 4500)) -> bytes:
    """A small JPEG whose frame header was rewritten to declare `declared` pixels: almost all of the
    image data is missing, yet the file ends properly (EOI), so a lenient decoder fills it with grey."""
    out = io.BytesIO()
    Image.new("RGB", (160, 120), (200, 30, 30)).save(out, "JPEG")
    data = bytearray(out.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 7] = declared[1].to_bytes(2, "big")
    data[sof + 7:sof + 9] = declared[0].to_bytes(2, "big")
    return bytes(data)


def progressive_jpeg() -> bytes:
    """The 12-megapixel photo saved progressive (the whole image is buffered while decoding)."""
    image = Image.open(io.BytesIO(camera_jpeg()))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, progressive=True)
    return out.getvalue()


def rgba_png(size=(4000, 3000)) -> bytes:
    """A 12-megapixel RGBA PNG with a transparent background (a product cut-out)."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((size[0] // 8, size[1] // 8, size[0] * 7 // 8, size[1] * 7 // 8),
                                  fill=(200, 60, 30, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def big_webp(size=(8000, 6000)) -> bytes:
    """A 48-megapixel WebP (a phone's full-resolution mode)."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    out = io.BytesIO()
    image.save(out, "WEBP", quality=60, method=0)
    return out.getvalue()


@dataclass(frozen=True)
class Case:
    name: str
    label: str
    build: Callable[[], bytes]


CASES = [
    Case("camera", "12 MP camera JPEG (4032×3024, EXIF rotated)", camera_jpeg),
    Case("big_rgba", "12000×4166 RGBA PNG", big_rgba_png),
    Case("bomb", "decompression bomb (20000×20000 PNG)", bomb),
    Case("png16", "16-bit greyscale PNG (4000×3000)", png16),
    Case("corrupt", "corrupt JPEG declaring 11000×4500", corrupt_jpeg),
    Case("progressive", "12 MP progressive JPEG", progressive_jpeg),
    Case("rgba", "12 MP RGBA PNG (4000×3000)", rgba_png),
    Case("webp", "48 MP WebP (8000×6000)", big_webp),
]


# --- measuring ----------------------------------------------------------------------------------------

def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))


def worker(path: Path, media: str) -> dict:
    """Process one file as the app would (default limits); report the outcome and the extra memory."""
    from marketplace.config import from_environment
    from marketplace.photos import PhotoLimits, PhotoRejected, store_photo

    limits = PhotoLimits.from_config(from_environment(tempfile.gettempdir()))
    warm = io.BytesIO()
    Image.new("RGB", (400, 300), (90, 140, 200)).save(warm, "JPEG")
    store_photo(warm.getvalue(), "warm.jpg", media, limits)
    data = path.read_bytes()
    before = _status_kb("VmRSS")
    started = time.perf_counter()
    try:
        stored = store_photo(data, path.name, media, limits)
        outcome = f"accepted {stored.width}×{stored.height}"
    except PhotoRejected as exc:
        outcome = f"refused: {exc.message}"
    seconds = time.perf_counter() - started
    return {"outcome": outcome, "extra_mb": (_status_kb("VmHWM") - before) / 1024, "seconds": seconds,
            "file_kb": len(data) / 1024}


def measure(path: Path, media: Path) -> dict:
    """Run `worker` on `path` in a fresh Python process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "bench.photo_memory", "worker", str(path), str(media)], cwd=ROOT,
                         env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def build_cases(directory: Path, cases=CASES) -> dict[str, Path]:
    paths = {}
    for case in cases:
        path = directory / f"{case.name}.{'jpg' if 'JPEG' in case.label else 'webp' if 'WebP' in case.label else 'png'}"
        if not path.exists():
            path.write_bytes(case.build())
        paths[case.name] = path
    return paths


def run(cases=CASES) -> list[tuple[Case, dict]]:
    with tempfile.TemporaryDirectory(prefix="pasar-photo-memory-") as tmp:
        paths = build_cases(Path(tmp), cases)
        return [(case, measure(paths[case.name], Path(tmp) / "media")) for case in cases]


def table(results: list[tuple[Case, dict]]) -> str:
    lines = ["| case | file | outcome | extra peak RSS | time |", "|---|---|---|---|---|"]
    for case, r in results:
        lines.append(f"| {case.label} | {r['file_kb']:,.0f} KB | {r['outcome']} | {r['extra_mb']:.0f} MB | "
                     f"{r['seconds']:.2f} s |")
    return "\n".join(lines)


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "worker":
        print(json.dumps(worker(Path(argv[1]), argv[2])))
        return
    print(table(run()))


if __name__ == "__main__":
    main()
