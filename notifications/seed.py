"""Demo notifications. The demo's sales, statements, payments and join decisions already queued theirs (the
same hooks as in real use); this adds the calendar's (the scan), keeps the staff's list short (the newest few
still to send, the older ones sent by hand) and adds one message WhatsApp could not deliver. Idempotent."""
from __future__ import annotations

from sqlalchemy import func, select, update

from catalog.models import Product
from consignment.models import ConsignmentLot
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
        # Her product with the fewest units on the shelf, as the low-stock message Meta refused to deliver.
        product_id, units = db.session.execute(
            select(ConsignmentLot.product_id, func.sum(ConsignmentLot.on_hand)).where(ConsignmentLot.member_id == member.id)
            .group_by(ConsignmentLot.product_id).order_by(func.sum(ConsignmentLot.on_hand), ConsignmentLot.product_id)
            .limit(1)).one()
        services.enqueue("demo:failed", m.LOW_STOCK, [member.owner_name, db.session.get(Product, product_id).name,
                                                      int(units)], user_id=member.user_id, phone=member.whatsapp)
        db.session.execute(update(Notification).where(Notification.key == "demo:failed").values(
            channel=CHANNEL_WHATSAPP, status=FAILED, attempts=1, updated_at=utcnow(),
            last_error="HTTP 400 131026 Message undeliverable Recipient is not on WhatsApp")
            .execution_options(synchronize_session=False))
    return 1
