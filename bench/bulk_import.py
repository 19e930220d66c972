"""A member's spreadsheet of 200 products with 200 phone photos, through the import (catalog/bulk_import.py).

    python -m bench.bulk_import                 # build the files (cached in bench/data/import-200), print the table
    python -m bench.bulk_import worker DIR      # (internal) run the import once in this process, print JSON

The photos are 3000×4000 JPEGs made with Pillow (grainy like a camera's, each a little different, about
2-3 MB), stored in one ZIP the way a phone's "compress" makes it. The worker is a fresh process on an empty
SQLite database: it warms up like a long-running app worker (libraries loaded, one small photo stored),
notes its resident set, then times the three steps — upload and check (every photo through the pipeline, in
batches of IMPORT_BATCH_SECONDS as the preview page asks for them), the preview, and the save in one
transaction — and reports the high-water mark above the warm-up (VmHWM):
what one import costs a worker. The baseline is the photo pipeline alone on the same photos
(`store_photo`, 20 of them, scaled to 200).
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data" / "import-200"
ROWS = 200
SIZE = (3000, 4000)
PEAK_MB_LIMIT = 300  # what an import may cost a worker above its warm-up
BASELINE_SAMPLE = 20


def phone_photo(base: Image.Image, n: int) -> bytes:
    image = base.copy()
    draw = ImageDraw.Draw(image)
    draw.rectangle((200 + 9 * n, 300, 1400 + 9 * n, 1500), fill=((n * 37) % 256, (n * 91) % 256, 160))
    draw.text((400, 2000), f"Produk {n}", fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()


def build(directory: Path = DATA) -> Path:
    """produk.csv and foto.zip (cached)."""
    done = directory / "done.txt"
    if done.exists():
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    grain = Image.effect_noise((SIZE[0] // 4, SIZE[1] // 4), 50).resize(SIZE).convert("RGB")
    base = Image.blend(Image.linear_gradient("L").resize(SIZE).convert("RGB"), grain, 0.5)
    lines = ["nama,harga,satuan,kategori,deskripsi,status,foto,sku"]
    with zipfile.ZipFile(directory / "foto.zip", "w", zipfile.ZIP_STORED) as archive:
        for n in range(ROWS):
            archive.writestr(f"foto/produk-{n:03d}.jpg", phone_photo(base, n))
            lines.append(f"Produk Uji {n:03d},{10 + n}rb,bungkus,,Dibuat untuk pengukuran.,terbit,"
                         f"produk-{n:03d}.jpg,SKU-{n:03d}")
    (directory / "produk.csv").write_text("\n".join(lines) + "\n")
    done.write_text("ok")
    return directory


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))


def worker(directory: Path) -> dict:
    from flask_migrate import upgrade

    from catalog import bulk_import
    from marketplace import create_app
    from marketplace.accounts import MemberDetails, create_member_account
    from marketplace.config import from_environment
    from marketplace.extensions import db
    from marketplace.once import new_key
    from marketplace.photos import PhotoLimits, store_photo

    tmp = Path(tempfile.mkdtemp(prefix="pasar-import-bench-"))
    defaults = from_environment(str(tmp))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'pasar.sqlite3'}", "MEDIA_ROOT": str(tmp / "media"),
                      "SEARCH_INDEX_DIR": str(tmp / "search-index"), "SECRET_KEY": "bench",
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        upgrade()
        member = create_member_account(details=MemberDetails(
            business_name="UMKM Bench", owner_name="Bench", whatsapp="081200000000", bank_name="Bank",
            bank_account_number="1", bank_account_holder="Bench"), email="bench@test.id", phone=None,
            password="rahasia-bench-123", actor=None)
        warm = io.BytesIO()
        Image.new("RGB", (400, 300), (90, 140, 200)).save(warm, "JPEG")
        store_photo(warm.getvalue(), "warm.jpg", tmp / "media", PhotoLimits.from_config(defaults))
        before = _status_kb("VmRSS")
        started = time.perf_counter()
        with open(directory / "produk.csv", "rb") as sheet, open(directory / "foto.zip", "rb") as photos:
            token = bulk_import.start_import(member.user, None, bulk_import.ImportFile("produk.csv", sheet),
                                             bulk_import.ImportFile("foto.zip", photos))
        first_request = time.perf_counter() - started
        batches, longest = 1, first_request
        while True:  # what the preview page's script does: one request per batch until every photo is checked
            t = time.perf_counter()
            done, total = bulk_import.continue_import(member.user, token)
            batches, longest = batches + 1, max(longest, time.perf_counter() - t)
            if done == total:
                break
        uploaded = time.perf_counter()
        plan = bulk_import.load_plan(member.user, token)
        previewed = time.perf_counter()
        result = bulk_import.confirm_import(member.user, token, new_key())
        saved = time.perf_counter()
        peak = _status_kb("VmHWM")
        photos_attached = sum(len(p.photos) for p in db.session.scalars(db.select(bulk_import.Product)))
        baseline = []
        with zipfile.ZipFile(directory / "foto.zip") as archive:
            for info in archive.infolist()[:BASELINE_SAMPLE]:
                data = archive.read(info)
                t = time.perf_counter()
                store_photo(data, info.filename, tmp / "baseline-media", PhotoLimits.from_config(defaults))
                baseline.append(time.perf_counter() - t)
    return {"upload_s": uploaded - started, "preview_s": previewed - uploaded, "save_s": saved - previewed,
            "total_s": saved - started, "requests": batches, "longest_request_s": longest, "extra_mb": (peak - before) / 1024, "peak_mb": peak / 1024,
            "rows_ok": len(plan.ready), "created": result.created, "photos": photos_attached,
            "baseline_s": sum(baseline) * ROWS / len(baseline),
            "zip_mb": (directory / "foto.zip").stat().st_size / 2**20}


def run() -> dict:
    directory = build()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "bench.bulk_import", "worker", str(directory)], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def describe(r: dict) -> str:
    return (f"{r['created']} products, {r['photos']} photos from a {r['zip_mb']:.0f} MB ZIP: upload and check "
            f"{r['upload_s']:.1f} s in {r['requests']} requests (longest {r['longest_request_s']:.1f} s), preview {r['preview_s']:.2f} s, save {r['save_s']:.1f} s; total "
            f"{r['total_s']:.1f} s; peak RSS +{r['extra_mb']:.0f} MB ({r['peak_mb']:.0f} MB); the photo pipeline "
            f"alone {r['baseline_s']:.1f} s")


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "worker":
        print(json.dumps(worker(Path(argv[1]))))
        return
    print(describe(run()))


if __name__ == "__main__":
    main()
