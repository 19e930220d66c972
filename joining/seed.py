"""Demo: one join request waiting for the pengurus, and one the pengurus declined (with the reason, told to
the applicant through the same decision service as in real use). Idempotent: looked up by WhatsApp number."""
from __future__ import annotations

from sqlalchemy import select

from marketplace.accounts import find_user
from marketplace.extensions import db
from marketplace.photos import store_upload
from marketplace.seed import draw_product_photo
from marketplace.transaction import transaction

from . import services
from .models import PENDING, JoinRequest

DEMO_NUMBER = "6281377778888"
DECLINED_NUMBER = "6281255550000"
DECLINE_REASON = "gerai sedang penuh untuk dodol; silakan daftar lagi bulan depan"


def _add_request(whatsapp: str, business_name: str, owner_name: str, address: str, makes: str, seed: int) -> JoinRequest:
    stored = store_upload(draw_product_photo(business_name, "Makanan Ringan", seed), "dodol.jpg", "photo")
    with transaction():
        join = JoinRequest(business_name=business_name, owner_name=owner_name, whatsapp=whatsapp, address=address,
                           makes=makes, photo_hash=stored.content_hash, photo_width=stored.width,
                           photo_height=stored.height, ip="127.0.0.1", status=PENDING)
        db.session.add(join)
    return join


def seed_join_requests() -> int:
    """Add the demo's join requests; returns how many were added (0 to 2)."""
    added = 0
    if not db.session.scalar(select(JoinRequest.id).where(JoinRequest.whatsapp == DEMO_NUMBER)):
        _add_request(DEMO_NUMBER, "Dodol Kandangan Ibu Ramlah", "Ramlah",
                     "Jl. Simpang Empat No. 12, Kandangan, Hulu Sungai Selatan",
                     "Dodol ketan dan dodol durian, sekitar 100 bungkus seminggu; tahan 3 minggu.", 7)
        added += 1
    if not db.session.scalar(select(JoinRequest.id).where(JoinRequest.whatsapp == DECLINED_NUMBER)):
        join = _add_request(DECLINED_NUMBER, "Dodol Kandangan Siti", "Siti Aminah",
                            "Jl. Jend. Sudirman No. 3, Kandangan, Hulu Sungai Selatan",
                            "Dodol ketan gula merah, 50 bungkus seminggu.", 8)
        services.decline(find_user("pengurus@demo.koperasi.id"), join.id, DECLINE_REASON)  # she is told, too
        added += 1
    return added
