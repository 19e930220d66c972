"""Demo notifications. The demo's sales, statements and payments already queued theirs (the same hooks as
in real use); this keeps the staff's list short (the newest few still to send, the older ones sent by hand),
adds one message WhatsApp could not deliver, and a declined join request. Idempotent."""
from __future__ import annotations

from sqlalchemy import select, update

from marketplace.accounts import find_user
from marketplace.extensions import db
from marketplace.timeutil import utcnow
from marketplace.transaction import transaction

from . import messages as m
from . import services
from .models import CHANNEL_WHATSAPP, FAILED, MANUAL_PENDING, MANUAL_SENT, Notification

KEEP_PENDING = 6


def seed_notifications() -> int:
    """Returns the number of notifications added."""
    if db.session.scalar(select(Notification.id).where(Notification.key == "demo:failed")) is not None:
        return 0
    pengurus = find_user("pengurus@demo.koperasi.id")
    member = find_user("keripik.acil@demo.koperasi.id").member
    services.scan()  # goods expiring soon or long on the shelf
    with transaction():
        pending = list(db.session.scalars(select(Notification.id).where(Notification.status == MANUAL_PENDING)
                                          .order_by(Notification.id.desc())))
        if len(pending) > KEEP_PENDING:
            db.session.execute(update(Notification).where(Notification.id.in_(pending[KEEP_PENDING:]))
                               .values(status=MANUAL_SENT, sent_at=Notification.created_at, sent_by_id=pengurus.id)
                               .execution_options(synchronize_session=False))
        services.enqueue("demo:failed", m.LOW_STOCK, [member.owner_name, "Keripik Pisang Kepok 250 g", 3],
                         user_id=member.user_id, phone=member.whatsapp)
        db.session.execute(update(Notification).where(Notification.key == "demo:failed").values(
            channel=CHANNEL_WHATSAPP, status=FAILED, attempts=1, updated_at=utcnow(),
            last_error="HTTP 400 131026 Message undeliverable Recipient is not on WhatsApp")
            .execution_options(synchronize_session=False))
        services.notify_join_decided(0, accepted=False, owner_name="Siti Aminah", business_name="Dodol Kandangan Siti",
                                     phone="6281255550000", reason="gerai sedang penuh untuk dodol; silakan daftar "
                                                                   "lagi bulan depan")
    return 2
