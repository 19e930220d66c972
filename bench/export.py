"""The full export at cooperative scale: time and peak memory of the ZIP of CSVs and of the XLSX workbook,
each in a fresh process, on a generated data set (default: 200,000 sale lines).

    python -m bench.export                   # default data (generated once, cached), print the table
    python -m bench.export --size small
    python -m bench.export worker DIR FORMAT # (internal) one export, print JSON

A worker opens the app (libraries loaded), notes its resident set (VmRSS), writes the export to a file as a
client would receive it, and reports the high-water mark (VmHWM) above that: the *extra* memory the export
costs. Streamed, it must not grow with the data (all rows in memory would cost hundreds of MB at this size).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _status_kb(name: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    return 0


def worker(directory: str, fmt: str) -> None:
    from bench.generate import app_for
    from dataexport import export
    from marketplace.timeutil import utcnow

    app = app_for(Path(directory))
    with app.app_context(), tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / f"export.{fmt}"
        try:  # reset the high-water mark to the current resident set (Linux), so it measures the export only
            Path("/proc/self/clear_refs").write_text("5")
        except OSError:
            pass
        before = _status_kb("VmRSS")
        started = time.perf_counter()
        if fmt == "zip":
            with open(target, "wb") as out:
                for chunk in export.csv_zip_chunks("Bench", utcnow()):
                    out.write(chunk)
        else:
            export.write_workbook(str(target), "Bench", utcnow())
        seconds = time.perf_counter() - started
        print(json.dumps({"format": fmt, "seconds": round(seconds, 1), "bytes": target.stat().st_size,
                          "rss_before_mb": round(before / 1024), "extra_peak_mb": round((_status_kb("VmHWM") - before) / 1024)}))


def main(size: str) -> None:
    from bench.generate import SIZES, build

    directory = build(size)
    rows = []
    for fmt in ("zip", "xlsx"):
        out = subprocess.run([sys.executable, "-m", "bench.export", "worker", str(directory), fmt], cwd=ROOT,
                             capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"Export of the '{size}' data set ({SIZES[size].lines:,} sale lines), load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores:")
    print("| format | time | file size | worker before | extra peak memory |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['format']} | {row['seconds']} s | {row['bytes'] / 1e6:.1f} MB | {row['rss_before_mb']} MB "
              f"| {row['extra_peak_mb']} MB |")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        worker(sys.argv[2], sys.argv[3])
    else:
        main(sys.argv[sys.argv.index("--size") + 1] if "--size" in sys.argv else "default")
