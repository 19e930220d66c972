"""Runs in its own process so peak memory (ru_maxrss) belongs to one photo job only.

    python -m bench.photo_worker pipeline|baseline <jpeg path> <media dir>
Prints JSON: seconds, peak_mb (this process's resident-set high-water mark, VmHWM, in MB).
ru_maxrss is not used: Linux carries it over from the parent across fork and exec, so a child of a
big benchmark process would report the parent's size.
"""
import json
import sys
import time
from pathlib import Path


def _hwm_kb() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))


def main() -> None:
    mode, path, media = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    data = path.read_bytes()
    from PIL import Image

    from marketplace.photos import PhotoLimits, store_photo

    before = _hwm_kb()
    started = time.perf_counter()
    if mode == "pipeline":
        store_photo(data, path.name, media, PhotoLimits(max_bytes=50 * 2**20, max_pixels=50_000_000, max_side=12_000))
    else:  # the least any resizer must do: decode fully and write one 1280 px WebP
        import io

        image = Image.open(io.BytesIO(data))
        image.load()
        image.resize((1280, round(image.height * 1280 / image.width))).save(io.BytesIO(), "WEBP", quality=80)
    seconds = time.perf_counter() - started
    peak = _hwm_kb()
    print(json.dumps({"seconds": seconds, "peak_mb": peak / 1024, "delta_mb": (peak - before) / 1024}))


if __name__ == "__main__":
    main()
