"""Runs in its own process so peak memory (ru_maxrss) belongs to one photo job only.

    python -m bench.photo_worker pipeline|baseline <jpeg path> <media dir>
Prints JSON: seconds, peak_mb (resident set high-water mark of this process, in MB).
"""
import json
import resource
import sys
import time
from pathlib import Path


def main() -> None:
    mode, path, media = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    data = path.read_bytes()
    from PIL import Image

    from catalog.photos import PhotoLimits, store_photo

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    if mode == "pipeline":
        store_photo(data, path.name, media, PhotoLimits(max_bytes=50 * 2**20, max_pixels=50_000_000, max_side=12_000))
    else:  # the least any resizer must do: decode fully and write one 1280 px WebP
        import io

        image = Image.open(io.BytesIO(data))
        image.load()
        image.resize((1280, round(image.height * 1280 / image.width))).save(io.BytesIO(), "WEBP", quality=80)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_mb": peak / 1024, "delta_mb": (peak - before) / 1024}))


if __name__ == "__main__":
    main()
