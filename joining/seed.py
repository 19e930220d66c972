"""Demo: one join request waiting for the pengurus (idempotent: looked up by its WhatsApp number)."""
from __future__ import annotations

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.seed import draw_product_photo
from marketplace.photos import store_upload
from marketplace.transaction import transaction

from .models import PENDING, JoinRequest

DEMO_NUMBER = "6281377778888"


def seed_join_requests() -> int:
    """Add the demo's pending join request; returns how many were added (0 or 1)."""
    if db.session.scalar(select(JoinRequest.id).where(JoinRequest.whatsapp == DEMO_NUMBER)):
        return 0
    stored = store_upload(draw_product_photo("Dodol Kandangan", "Makanan Ringan", 7), "dodol.jpg", "photo")
    with transaction():
        db.session.add(JoinRequest(
            business_name="Dodol Kandangan Ibu Ramlah", owner_name="Ramlah", whatsapp=DEMO_NUMBER,
            address="Jl. Simpang Empat No. 12, Kandangan, Hulu Sungai Selatan",
            makes="Dodol ketan dan dodol durian, sekitar 100 bungkus seminggu; tahan 3 minggu.",
            photo_hash=stored.content_hash, photo_width=stored.width, photo_height=stored.height,
            ip="127.0.0.1", status=PENDING))
    return 1
