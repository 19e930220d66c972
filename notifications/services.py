"""Notifications: queue them (inside the caller's transaction), show them, let staff send them by hand,
and apply what the WhatsApp webhook reports.

Every `notify_*` function is ONE call made inside the transaction of the change it reports (a sale, a
closed settlement, a payment, an order, a password link): the outbox row commits with the change or not at
all. Each row has its own UNIQUE key and is inserted with ON CONFLICT DO NOTHING, so a repeated event
(a scan run twice the same day, two workers) queues it once and never aborts the caller's transaction.
"""
from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import String, cast, func, literal, or_, select, update
from sqlalchemy.orm import selectinload

from catalog.models import Product
from consignment.models import ConsignmentLot, Sale, SaleLine, SaleVoid, StockMovement
from marketplace.accounts import password_link_made
from marketplace.cooperative import current_cooperative
from marketplace.errors import DomainError, NotFound
from marketplace.extensions import db
from marketplace.i18n import gettext as _
from marketplace.models import ROLE_PENGURUS, Member, User
from marketplace.money import format_rupiah
from marketplace.text import whatsapp_link
from marketplace.views import Page, absolute_url
from marketplace.timeutil import local_midnight_utc, local_today, to_local, utcnow
from marketplace.transaction import dialect_insert, transaction

from . import messages as m
from .models import (CHANNEL_INAPP, CHANNEL_MANUAL, CHANNEL_WHATSAPP, FAILED, MANUAL_PENDING, PENDING, SENT,
                     TRANSITIONS, Notification, NotificationPreference)

log = logging.getLogger(__name__)
DEFAULT_THRESHOLD = 3
SUMMARY_CATCH_UP_DAYS = 7  # a scan also queues the daily summaries a stopped scanner missed, this far back
SOLD_EACH, SOLD_DAILY = "each", "daily"
MONTHS = ("", "Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
          "November", "Desember")


def tanggal(day: date) -> str:
    """A date as written in an Indonesian message: 25 November 2026."""
    return f"{day.day} {MONTHS[day.month]} {day.year}"


def whatsapp_configured() -> bool:
    cfg = current_app.config
    return bool(cfg.get("WHATSAPP_TOKEN") and cfg.get("WHATSAPP_PHONE_NUMBER_ID"))


# --- preferences ---------------------------------------------------------------------------------------

@dataclass
class Preferences:
    whatsapp_events: set[str]
    sold_mode: str = SOLD_EACH
    low_stock_threshold: int = DEFAULT_THRESHOLD


def preferences(user_id: int | None) -> Preferences:
    row = db.session.scalar(select(NotificationPreference).where(NotificationPreference.user_id == user_id)) \
        if user_id else None
    if row is None:
        return Preferences(set(m.CHOOSABLE))
    return Preferences({e for e in row.whatsapp_events.split(",") if e}, row.sold_mode, row.low_stock_threshold)


def save_preferences(user: User, whatsapp_events, sold_mode: str, low_stock_threshold: int) -> Preferences:
    if sold_mode not in (SOLD_EACH, SOLD_DAILY):
        raise DomainError(_("Choose each sale or one summary a day."), field="sold_mode")
    if not isinstance(low_stock_threshold, int) or not 0 <= low_stock_threshold <= 10_000:
        raise DomainError(_("Write the number of units, e.g. 3 (0: no message)."), field="low_stock_threshold")
    events = ",".join(e for e in m.CHOOSABLE if e in set(whatsapp_events))
    with transaction():
        before = preferences(user.id)
        values = dict(whatsapp_events=events, sold_mode=sold_mode, low_stock_threshold=low_stock_threshold,
                      updated_at=utcnow())
        db.session.execute(dialect_insert(NotificationPreference).values(user_id=user.id, **values)
                           .on_conflict_do_update(index_elements=["user_id"], set_=values))
        if user.member is not None and low_stock_threshold > before.low_stock_threshold:
            _notify_threshold_raised(user.member, before.low_stock_threshold,
                                     Preferences(set(events.split(",")) - {""}, sold_mode, low_stock_threshold))
    return preferences(user.id)


# --- the outbox ----------------------------------------------------------------------------------------

def enqueue(key: str, event: str, params: list, *, user_id: int | None = None, phone: str = "",
            whatsapp: bool = True) -> bool:
    """Queue one notification in the CALLER's transaction. True when queued, False when its key was
    queued before. `whatsapp=False` keeps it in the inbox only. The channel is chosen now: the Cloud API
    when WHATSAPP_TOKEN and WHATSAPP_PHONE_NUMBER_ID are set, else staff's wa.me list; in-app only without
    a number or when the member chose so."""
    text = m.render(event, params)
    now = utcnow()
    if not phone or not whatsapp:
        channel, status, sent_at = CHANNEL_INAPP, SENT, now
    elif whatsapp_configured():
        channel, status, sent_at = CHANNEL_WHATSAPP, PENDING, None
    else:
        channel, status, sent_at = CHANNEL_MANUAL, MANUAL_PENDING, None
    inserted = db.session.execute(dialect_insert(Notification).values(
        key=key[:120], user_id=user_id, phone=phone or "", event=event,
        params=_params_json(params), text=text, channel=channel,
        status=status, attempts=0, next_attempt_at=now if channel == CHANNEL_WHATSAPP else None,
        last_error="", created_at=now, updated_at=now, sent_at=sent_at,
    ).on_conflict_do_nothing(index_elements=["key"]).returning(Notification.id)).scalar()
    return inserted is not None


def _params_json(params: list) -> str:
    return json.dumps([m.clean_param(p) for p in params], ensure_ascii=False)


def enqueue_for_member(member: Member, key: str, event: str, params: list, prefs: Preferences | None = None) -> bool:
    prefs = prefs or preferences(member.user_id)
    choice = m.choice_of(event)
    wanted = choice not in m.CHOOSABLE or choice in prefs.whatsapp_events
    return enqueue(key, event, params, user_id=member.user_id, phone=member.whatsapp, whatsapp=wanted)


def move(notification_id: int, action: str, **values) -> bool:
    """Compare-and-set: move the row along `action` if it is in one of the action's starting statuses.
    True for the one caller whose UPDATE won."""
    starts, to = TRANSITIONS[action]
    stmt = (update(Notification).where(Notification.id == notification_id, Notification.status.in_(starts))
            .values(status=to, updated_at=utcnow(), **values).execution_options(synchronize_session=False))
    return db.session.execute(stmt).rowcount == 1


# --- the events (each called inside the transaction of its change) ---------------------------------------

def notify_sale_line(line: SaleLine, lot: ConsignmentLot) -> None:
    """A sale line was written (counter, QRIS, offline or online sale): the member hears of the sale — ONE
    message per sale and member, listing her goods in it (each, or only in the inbox when she takes a
    daily summary) — and of her stock running low when this line crossed her threshold.

    The first line of hers queues the message (key "sale:<sale>:<member>"); each further line of hers in
    the same sale rewrites that message, which is still uncommitted: all of a sale's lines are written in
    the transaction that records the sale (counter, QRIS, offline sync and online payment alike)."""
    member = lot.member
    prefs = preferences(member.user_id)
    db.session.flush()
    params = _sale_params(member, line.sale_id)
    key = f"sale:{line.sale_id}:{member.id}"
    if not enqueue(key, m.SOLD, params, user_id=member.user_id, phone=member.whatsapp,
                   whatsapp=m.SOLD in prefs.whatsapp_events and prefs.sold_mode == SOLD_EACH):
        db.session.execute(update(Notification).where(Notification.key == key, Notification.attempts == 0,
                                                      Notification.sent_by_id.is_(None))
                           .values(params=_params_json(params), text=m.render(m.SOLD, params), updated_at=utcnow())
                           .execution_options(synchronize_session=False))
    _notify_if_low(member, lot.product, line.quantity, prefs)


MAX_ITEMS_LISTED = 10


def _sale_params(member: Member, sale_id: int) -> list:
    """The "goods sold" message's parameters: her goods in the sale (per product, in the order sold), their
    total and her share."""
    lines = db.session.execute(
        select(SaleLine.product_id, Product.name, SaleLine.quantity, SaleLine.line_total, SaleLine.commission)
        .join(Product, Product.id == SaleLine.product_id)
        .where(SaleLine.sale_id == sale_id, SaleLine.member_id == member.id).order_by(SaleLine.id)).all()
    units: dict[int, list] = {}
    for product_id, name, quantity, _total, _commission in lines:
        units.setdefault(product_id, [name, 0])[1] += quantity
    items = [f"{quantity} × {name}" for name, quantity in units.values()]
    if len(items) > MAX_ITEMS_LISTED:
        items = items[:MAX_ITEMS_LISTED] + [f"dan {len(items) - MAX_ITEMS_LISTED} produk lain"]
    gross = sum(line.line_total for line in lines)
    share = gross - sum(line.commission for line in lines)
    return [member.owner_name, ", ".join(items), format_rupiah(gross), format_rupiah(share)]


# Stock low: told once per CROSSING of her threshold — when a change takes a product's units on the shelf
# from above her threshold to at or below it (a sale, damaged/lost/expired goods, a count correction, goods
# returned to her), or when she raises her threshold above what is on the shelf. Further units going out
# below the threshold say nothing; after she brings more (back above it), the next crossing is told again.
# The key names the product's newest stock movement at the crossing, so one state of the shelf is told at
# most once, also when she lowers and raises her threshold again.

def _units_left(product_id: int) -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(ConsignmentLot.on_hand), 0))
                                 .where(ConsignmentLot.product_id == product_id)))


def _low_stock_key(product_id: int) -> str:
    newest = db.session.scalar(select(func.max(StockMovement.id)).join(ConsignmentLot, ConsignmentLot.id ==
                                                                       StockMovement.lot_id)
                               .where(ConsignmentLot.product_id == product_id))
    return f"low:{product_id}:{newest or 0}"


def _notify_if_low(member: Member, product: Product, taken: int, prefs: Preferences | None = None) -> bool:
    """`taken` units of `product` just left the shelf in this transaction: tell its member if that crossed
    her threshold."""
    if taken <= 0:
        return False
    prefs = prefs or preferences(member.user_id)
    threshold = prefs.low_stock_threshold
    if threshold <= 0:
        return False
    db.session.flush()
    left = _units_left(product.id)
    if not left <= threshold < left + taken:
        return False
    return enqueue_for_member(member, _low_stock_key(product.id), m.LOW_STOCK, [member.owner_name, product.name, left],
                              prefs)


def notify_stock_taken(taken: list[tuple[ConsignmentLot, int]]) -> None:
    """Units left the shelf other than by a sale — damaged, lost or expired goods, a count correction, goods
    returned to her: each product whose units crossed its member's threshold is told once. Call inside the
    transaction of the change, after its movements (and after the check that stock stayed >= 0)."""
    by_product: dict[int, list] = {}
    for lot, quantity in taken:
        entry = by_product.setdefault(lot.product_id, [lot, 0])
        entry[1] += quantity
    for lot, quantity in by_product.values():
        _notify_if_low(lot.member, lot.product, quantity)


def _notify_threshold_raised(member: Member, old_threshold: int, prefs: Preferences) -> None:
    """She raised her threshold: each of her products whose units on the shelf were above the old
    threshold and are at or below the new one is now low."""
    left = func.sum(ConsignmentLot.on_hand)
    rows = db.session.execute(select(ConsignmentLot.product_id, left).where(ConsignmentLot.member_id == member.id)
                              .group_by(ConsignmentLot.product_id)
                              .having(left > old_threshold, left <= prefs.low_stock_threshold)
                              .order_by(ConsignmentLot.product_id)).all()
    for product_id, units in rows:
        product = db.session.get(Product, product_id)
        enqueue_for_member(member, _low_stock_key(product_id), m.LOW_STOCK,
                           [member.owner_name, product.name, int(units)], prefs)


def notify_statements_ready(period) -> None:
    """A settlement period was closed: each member with a statement hears its payable."""
    for payout in period.payouts:
        member = payout.member
        try:
            link = absolute_url("settlement.statement", payout_id=payout.id)
        except RuntimeError:  # no request and no PUBLIC_BASE_URL/SERVER_NAME (a command): name the page
            link = "menu Saldo dan laporan"
        enqueue_for_member(member, f"statement:{payout.id}", m.STATEMENT_READY,
                           [member.owner_name, tanggal(period.cutoff_date), format_rupiah(payout.payable), link])


def notify_statement_paid(payout, payment) -> None:
    from settlement.forms import payout_method_labels

    member = payout.member
    with force_locale("id"):  # the message is Indonesian whoever is reading the site in English
        method = str(payout_method_labels().get(payment.method, payment.method))
    enqueue_for_member(member, f"paid:{payout.id}", m.STATEMENT_PAID,
                       [member.owner_name, format_rupiah(payout.payable), tanggal(payout.period.cutoff_date),
                        method, payment.reference or payment.acknowledged_by or "-"])


def notify_order_placed(order, lines) -> None:
    """An online order holds units of members' products: each member hears what of hers it holds."""
    by_member: dict[int, list] = {}
    for line in lines:
        by_member.setdefault(line.lot.member_id, []).append(line)
    for member_lines in by_member.values():
        member = member_lines[0].lot.member
        items = ", ".join(f"{line.quantity} × {line.lot.product.name}" for line in member_lines)
        enqueue_for_member(member, f"order:{order.id}:{member.id}", m.ORDER, [member.owner_name, order.number, items])


def notify_password_link(user: User, link: str, hours: int) -> None:
    """A password link was made for `user` (by pengurus, or when a join request is approved)."""
    coop = current_cooperative()
    phone = user.member.whatsapp if user.member else (user.phone or "")
    enqueue(f"password:{user.id}:{secrets.token_hex(6)}", m.PASSWORD_LINK,
            [user.name, coop.name if coop else "", hours, link], user_id=user.id, phone=phone)


def _on_password_link(user: User, token: str) -> None:
    """Runs inside the transaction that made the link. A link is never dropped quietly: without an address
    to put in it (no request, no PUBLIC_BASE_URL) the change that made it is refused, whole, saying what to
    set — an approved member with no way to sign in would be worse than a pengurus asked to try again."""
    try:
        link = absolute_url("core.reset_password", token=token)
    except RuntimeError:  # neither a request nor PUBLIC_BASE_URL/SERVER_NAME: no address to send
        log.error("password link for user %s refused: set PUBLIC_BASE_URL", user.id)
        raise DomainError(_("The password link cannot be sent: the site's address is not known here. Set "
                            "PUBLIC_BASE_URL (e.g. https://pasar.example.id), or do this from the website."))
    notify_password_link(user, link, current_app.config["RESET_LINK_HOURS"])


password_link_made.connect(_on_password_link, weak=False)


def notify_join_decided(request_id: int, *, accepted: bool, owner_name: str, business_name: str, phone: str,
                        reason: str = "", user: User | None = None) -> bool:
    """A join request was approved (`user` is the new account) or declined (with `reason`): the applicant
    hears it on WhatsApp. Call inside the transaction that decides the request; at most once per request."""
    coop = current_cooperative()
    coop_name = coop.name if coop else ""
    if accepted:
        return enqueue(f"join:{request_id}", m.JOIN_ACCEPTED, [owner_name, business_name, coop_name],
                       user_id=user.id if user else None, phone=phone)
    return enqueue(f"join:{request_id}", m.JOIN_DECLINED, [owner_name, business_name, coop_name, reason],
                   user_id=user.id if user else None, phone=phone)


# --- the scheduled scan (expiring, aging, daily summaries) ---------------------------------------------

def scan(today: date | None = None) -> int:
    """Queue what depends on the calendar: goods expiring within 7 days (once per lot), goods past the
    aging threshold (once per lot per week), and the sales summary of each of the last
    SUMMARY_CATCH_UP_DAYS days (yesterday's, and any a stopped scanner missed) for members who chose one.
    Safe to run as often as you like (each notification's key is unique: a day's summary is queued once).
    Returns how many were queued."""
    today = today or local_today()
    aging_days = current_app.config["NOTIFY_AGING_DAYS"]
    cutoff = local_midnight_utc(today - timedelta(days=aging_days))
    queued = 0
    with transaction():
        lots = db.session.scalars(select(ConsignmentLot).where(
            ConsignmentLot.on_hand > 0,
            or_(ConsignmentLot.expiry_date <= today + timedelta(days=7), ConsignmentLot.received_at < cutoff))
            .options(selectinload(ConsignmentLot.member), selectinload(ConsignmentLot.product))
            .order_by(ConsignmentLot.id))
        week = "%d-W%02d" % today.isocalendar()[:2]
        for lot in lots:
            member = lot.member
            if lot.expiry_date is not None and lot.expiry_date <= today + timedelta(days=7):
                queued += enqueue_for_member(member, f"expiring:{lot.id}", m.EXPIRING,
                                             [member.owner_name, lot.product.name, lot.code, lot.on_hand,
                                              tanggal(lot.expiry_date)])
            elif lot.received_at < cutoff:
                days = (today - to_local(lot.received_at).date()).days  # both in the cooperative's zone
                queued += enqueue_for_member(member, f"aging:{lot.id}:{week}", m.AGING,
                                             [member.owner_name, lot.product.name, lot.code, lot.on_hand, days])
        for back in range(SUMMARY_CATCH_UP_DAYS, 0, -1):
            queued += _daily_summaries(today - timedelta(days=back))
    return queued


def _told_of_line():
    """Join condition: the "goods sold" notification that told of a sale line — one per sale and member
    ("sale:<sale>:<member>", notify_sale_line), or one per line ("sale:<line>") for lines sold before the
    messages were grouped per sale."""
    per_sale = (literal("sale:", String) + cast(SaleLine.sale_id, String) + literal(":", String)
                + cast(SaleLine.member_id, String))
    return or_(Notification.key == per_sale, Notification.key == literal("sale:", String) + cast(SaleLine.id, String))


def _daily_summaries(day: date) -> int:
    """One summary of the sales she was told of in her inbox on `day` (voids left out), for each member who
    takes a daily summary. Counted by when she was told, not when the sale was made: a sale made on the
    offline counter reaches the server (and her inbox) when the phone syncs, up to OFFLINE_SALE_MAX_DAYS
    later, possibly after its own day's summary went out; it is in the summary of the day it arrived. Sales
    already sent to her on WhatsApp one by one (before she switched to a daily summary) are not counted, so
    a switch never brings summaries of past days."""
    from consignment.offline import CLOCK_SKEW, OFFLINE_SALE_MAX_DAYS  # here: consignment imports this module

    start, end = local_midnight_utc(day), local_midnight_utc(day + timedelta(days=1))
    daily_users = select(NotificationPreference.user_id).where(NotificationPreference.sold_mode == SOLD_DAILY)
    rows = db.session.execute(
        select(SaleLine.member_id, func.sum(SaleLine.quantity), func.sum(SaleLine.line_total),
               func.sum(SaleLine.commission))
        .join(Sale, Sale.id == SaleLine.sale_id).join(Member, Member.id == SaleLine.member_id)
        .join(Notification, _told_of_line())
        .outerjoin(SaleVoid, SaleVoid.sale_id == Sale.id)
        # The sales' dates bound the read (index on sales.created_at); the day is the telling's. An offline
        # sale is dated by the phone, whose clock may run up to CLOCK_SKEW ahead: told before midnight, it
        # may be dated just after.
        .where(Sale.created_at >= start - timedelta(days=OFFLINE_SALE_MAX_DAYS + 1),
               Sale.created_at < end + CLOCK_SKEW,
               Notification.created_at >= start, Notification.created_at < end,
               SaleVoid.id.is_(None), Member.user_id.in_(daily_users), Notification.channel == CHANNEL_INAPP)
        .group_by(SaleLine.member_id)).all()
    queued = 0
    for member_id, units, gross, commission in rows:
        member = db.session.get(Member, member_id)
        queued += enqueue_for_member(member, f"daily:{member_id}:{day.isoformat()}", m.SOLD_DAILY,
                                     [member.owner_name, tanggal(day), int(units), format_rupiah(int(gross)),
                                      format_rupiah(int(gross) - int(commission))])
    return queued


# --- the member's inbox --------------------------------------------------------------------------------

INBOX_PAGE = 20


def inbox(user: User, page: int = 1, per_page: int = INBOX_PAGE) -> Page:
    """One page of the account's notifications, newest first."""
    return Page.of(lambda limit, offset: db.session.scalars(
        select(Notification).where(Notification.user_id == user.id).order_by(Notification.id.desc())
        .limit(limit).offset(offset)), max(1, page), per_page)


def unread_count(user: User) -> int:
    return db.session.scalar(select(func.count(Notification.id)).where(Notification.user_id == user.id,
                                                                       Notification.read_at.is_(None))) or 0


def mark_all_read(user: User) -> int:
    with transaction():
        return db.session.execute(update(Notification).where(Notification.user_id == user.id,
                                                             Notification.read_at.is_(None))
                                  .values(read_at=utcnow()).execution_options(synchronize_session=False)).rowcount


# --- staff: messages to send by hand, and failed ones ------------------------------------------------------

def _visible_to(staff: User):
    """Password links are for pengurus' eyes only (a kasir must not be able to take over an account)."""
    if staff.has_role(ROLE_PENGURUS):
        return True
    return Notification.event != m.PASSWORD_LINK


def to_send_by_hand(staff: User, limit: int = 100) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.status == MANUAL_PENDING, _visible_to(staff))
                                   .options(selectinload(Notification.user)).order_by(Notification.id).limit(limit)))


def failed_messages(staff: User, limit: int = 100) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.status == FAILED, _visible_to(staff))
                                   .options(selectinload(Notification.user)).order_by(Notification.id.desc())
                                   .limit(limit)))


def count_to_send(staff: User) -> int:
    return db.session.scalar(select(func.count(Notification.id)).where(
        Notification.status.in_((MANUAL_PENDING, FAILED)), _visible_to(staff))) or 0


def _get_for_staff(staff: User, notification_id: int) -> Notification:
    notification = db.session.get(Notification, notification_id)
    if notification is None or (notification.event == m.PASSWORD_LINK and not staff.has_role(ROLE_PENGURUS)):
        raise NotFound(_("Message not found."))
    return notification


def tap_to_send(staff: User, notification_id: int) -> str:
    """Staff tapped a message on the list: mark it sent by hand (once: a second tap, by anyone, is
    refused) and return the wa.me link that opens WhatsApp with the text typed in."""
    with transaction():
        notification = _get_for_staff(staff, notification_id)
        if not notification.phone:
            raise DomainError(_("This message has no WhatsApp number."))
        if not move(notification.id, "tap", sent_at=utcnow(), sent_by_id=staff.id):
            raise DomainError(_("This message was already sent."))
    return whatsapp_link(notification.phone, notification.text)


def send_again(staff: User, notification_id: int) -> Notification:
    """A failed message goes back to the sender (with the API keys), or onto the wa.me list (without)."""
    with transaction():
        notification = _get_for_staff(staff, notification_id)
        if whatsapp_configured() and notification.channel == CHANNEL_WHATSAPP:
            moved = move(notification.id, "resend", attempts=0, next_attempt_at=utcnow(), last_error="")
        else:
            moved = move(notification.id, "to_manual", channel=CHANNEL_MANUAL)
        if not moved:
            raise DomainError(_("This message is no longer waiting for a decision."))
    db.session.refresh(notification)
    return notification


# --- the webhook: statuses Meta reports ----------------------------------------------------------------------

WEBHOOK_ACTIONS = {"sent": "webhook_sent", "delivered": "webhook_delivered", "read": "webhook_read",
                   "failed": "webhook_failed"}


def apply_statuses(payload: dict) -> int:
    """Apply every `statuses` entry of a (signature-checked) webhook payload. Each is a compare-and-set
    that only moves forward (sent → delivered → read, or → failed), so repeats and out-of-order deliveries
    change nothing. A status is matched by its message id, or by our key (biz_opaque_callback_data) for a
    send that timed out before we learnt the id. Returns how many rows changed."""
    changed = 0
    with transaction():
        for entry in payload.get("entry") or []:
            for change in entry.get("changes") or []:
                for status in (change.get("value") or {}).get("statuses") or []:
                    changed += _apply_status(status)
    return changed


def _apply_status(status: dict) -> int:
    action = WEBHOOK_ACTIONS.get(status.get("status"))
    message_id = str(status.get("id") or "")[:128]
    if action is None or not message_id:
        return 0
    notification_id = db.session.scalar(select(Notification.id).where(Notification.provider_message_id == message_id))
    key = status.get("biz_opaque_callback_data")
    if notification_id is None and key:
        notification_id = db.session.scalar(select(Notification.id).where(
            Notification.key == str(key)[:120], Notification.channel == CHANNEL_WHATSAPP))
    if notification_id is None:
        return 0
    values = {"provider_message_id": message_id}
    if action == "webhook_failed":
        errors = status.get("errors") or [{}]
        first = errors[0] if isinstance(errors[0], dict) else {}
        detail = (first.get("error_data") or {}).get("details") if isinstance(first.get("error_data"), dict) else None
        values["last_error"] = f"{first.get('code', '')} {first.get('title') or first.get('message') or ''} " \
                               f"{detail or ''}".strip()[:1000]
    else:
        values["sent_at"] = func.coalesce(Notification.sent_at, utcnow())
    return int(move(notification_id, action, **values))
