"""The site's icon (favicon, Android home screen) and web app manifest, drawn with Pillow when first asked
for and kept in memory: no binary file in the repository, nothing to configure."""
from __future__ import annotations

import io
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

THEME_COLOUR = "#0b5d3b"  # --brand in style.css
BACKGROUND_COLOUR = "#fbfaf6"  # --bg in style.css
ICON_SIZES = (32, 180, 192, 512)  # favicon, Apple touch icon, the manifest's two Android sizes
SKIP_WORDS = {"koperasi", "kop", "kud", "ksp", "dan", "&", "the", "of"}


def initials(name: str) -> str:
    """'Koperasi Produsen Jaya Bersama Banjar' -> 'PJB'; at most three letters, 'PK' when there is no name."""
    words = [w for w in (name or "").split() if w.lower().strip(".") not in SKIP_WORDS and w[:1].isalnum()]
    return "".join(w[0] for w in words[:3]).upper() or "PK"


def _font(size: int):
    try:
        return ImageFont.truetype("DejaVuSans-Bold.ttf", size)
    except OSError:
        return ImageFont.load_default(size=size)


@lru_cache(maxsize=16)
def icon_png(size: int, letters: str) -> bytes:
    """A square icon: the brand green with a gold ring and the cooperative's initials. Android masks it
    to a circle or a rounded square, so everything that matters stays inside the middle 80 %."""
    scale = 4  # draw large, shrink once: smooth edges without anti-aliasing support in ImageDraw
    big = size * scale
    image = Image.new("RGB", (big, big), THEME_COLOUR)
    draw = ImageDraw.Draw(image)
    ring = big // 7
    draw.ellipse((ring, ring, big - ring, big - ring), outline=(234, 179, 8), width=max(big // 40, 2))
    font = _font(big // (3 if len(letters) <= 2 else 4))
    box = draw.textbbox((0, 0), letters, font=font)
    draw.text(((big - (box[2] - box[0])) / 2 - box[0], (big - (box[3] - box[1])) / 2 - box[1]), letters,
              fill=(255, 255, 255), font=font)
    out = io.BytesIO()
    image.resize((size, size), Image.LANCZOS).save(out, "PNG", optimize=True)
    return out.getvalue()


def manifest(name: str, icon_url) -> dict:
    """The web app manifest: what Android's "Add to Home screen" shows and opens."""
    short = name if len(name) <= 12 else (initials(name) if len(name.split()) > 1 else name[:12])
    return {
        "name": name, "short_name": short, "lang": "id", "start_url": "/", "scope": "/", "display": "standalone",
        "theme_color": THEME_COLOUR, "background_color": BACKGROUND_COLOUR,
        "icons": [{"src": icon_url(s), "sizes": f"{s}x{s}", "type": "image/png", "purpose": "any"} for s in (192, 512)],
    }
