"""Selling with the connection down: the kasir's token, the snapshot of sellable lots, syncing queued sales,
and the stock discrepancies an offline sale can leave behind.

The POS keeps selling offline (cash) and stores each sale on the device with a client-made UUID, the lines,
the time it happened and the signed token of the kasir who made it (embedded when the POS loaded online).
When the connection returns the device sends its queue, in order, to `sync_offline_sale`:

- **exactly once**: the UUID is claimed in the one-time keys table (UNIQUE) as the transaction's first
  statement, so a re-sent sale (a lost response, a double sync, two workers at once) returns the first
  result and changes nothing;
- **dated when it happened**: the sale's time, not in the future (a little clock skew allowed), at most
  `OFFLINE_SALE_MAX_DAYS` old;
- **by the kasir who made it**: the token names them (itsdangerous, signed with the app's secret); whoever
  is signed in when the queue syncs does not matter, and a forged or expired token is refused. A sale
  already recorded is looked up first, so its re-send gets the first answer even if the kasir was switched
  off since; a refused sale is written to the audit log and stays on the device to send again or discard;
- **never dropped**: a sale that sells more than the ledger has (the last unit went online meanwhile) is
  still recorded — the goods left the shop — and each lot it took below zero gets a `StockDiscrepancy`
  that pengurus resolves with a count correction (audited); open online orders holding that lot are
  flagged for the kasir.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import current_app
from marketplace.i18n import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace import once
from marketplace.audit import record_event
from marketplace.errors import DomainError, NotFound
from marketplace.extensions import db
from marketplace.models import ROLE_KASIR, ROLE_PENGURUS, User
from marketplace.money import MAX_RUPIAH
from marketplace.timeutil import utcnow
from marketplace.transaction import transaction

from . import services
from .models import KIND_ADJUSTMENT, ConsignmentLot, Sale, StockDiscrepancy

TOKEN_SALT = "pos-offline-kasir"
OFFLINE_ACTION = "sale.offline"
OFFLINE_SALE_MAX_DAYS = 7  # a queued sale older than this is refused (and stays on the device, shown)
CLOCK_SKEW = timedelta(minutes=10)  # a phone's clock may run a little ahead of the server's
UUID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MAX_LINES = 200


# --- the kasir's token ------------------------------------------------------------------------------

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def kasir_token(user: User) -> str:
    """A signed token naming the kasir, embedded in the POS when it loads online and stored with every sale
    queued on the device, so a sale stays theirs whoever is signed in when it syncs."""
    return _serializer().dumps({"u": user.id})


def _signed(token: str) -> tuple[int | None, datetime]:
    """The user id a kasir token names and when it was made (naive UTC, like the app's times); BadSignature
    for a forged or damaged token."""
    data, issued = _serializer().loads(token or "", return_timestamp=True)
    return (data.get("u") if isinstance(data, dict) else None), issued.replace(tzinfo=None)


def kasir_from_token(token: str, sold_at: datetime | None = None) -> User:
    """The kasir a token names. Refuses a forged or damaged token, one of an account that is switched off or
    no longer sells, and one made more than the longest a sale may wait (plus a day) before the sale. The
    age counts to the SALE, not to the sync: a phone offline for days keeps the token of the POS it last
    loaded online (and `_check_time` bounds how old the sale itself may be)."""
    try:
        user_id, issued = _signed(token)
    except BadSignature:
        raise DomainError(_("This sale's cashier signature is not valid.")) from None
    sold_at = sold_at or utcnow()
    if sold_at - issued > timedelta(days=OFFLINE_SALE_MAX_DAYS + 1):
        raise DomainError(_("This sale waited too long on the device to be recorded; tell the pengurus."))
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.role not in (ROLE_KASIR, ROLE_PENGURUS):
        raise DomainError(_("This sale's cashier can no longer sell."))
    return user


# --- the snapshot of sellable lots -----------------------------------------------------------------

def sellable_snapshot() -> dict:
    """What the POS needs to sell offline: every lot with stock (code, name, price, member, on hand now)."""
    rows = db.session.execute(
        select(ConsignmentLot.id, ConsignmentLot.code, ConsignmentLot.unit_price, ConsignmentLot.on_hand,
               ConsignmentLot.product_id, ConsignmentLot.member_id)
        .where(ConsignmentLot.on_hand > 0).order_by(ConsignmentLot.id)).all()
    from catalog.models import Product
    from marketplace.models import Member

    names = dict(db.session.execute(select(Product.id, Product.name)
                                    .where(Product.id.in_({r.product_id for r in rows}))).all()) if rows else {}
    members = dict(db.session.execute(select(Member.id, Member.business_name)
                                      .where(Member.id.in_({r.member_id for r in rows}))).all()) if rows else {}
    return {"taken_at": utcnow().replace(tzinfo=timezone.utc).isoformat(),
            "lots": [{"code": r.code, "name": names.get(r.product_id, ""), "price": int(r.unit_price),
                      "member": members.get(r.member_id, ""), "on_hand": int(r.on_hand)} for r in rows]}


# --- syncing a queued sale ------------------------------------------------------------------------

@dataclass(frozen=True)
class OfflineLine:
    code: str
    quantity: int


def parse_sold_at(text) -> datetime:
    """The sale's time as the device wrote it (ISO 8601 with a zone), as naive UTC like every stored time."""
    try:
        when = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise DomainError(_("This sale's time is not readable.")) from None
    if when.tzinfo is None:
        raise DomainError(_("This sale's time is not readable."))
    return when.astimezone(timezone.utc).replace(tzinfo=None)


def _check_time(sold_at: datetime) -> None:
    now = utcnow()
    if sold_at > now + CLOCK_SKEW:
        raise DomainError(_("This sale's time is in the future; check the device's clock."))
    if sold_at < now - timedelta(days=OFFLINE_SALE_MAX_DAYS):
        raise DomainError(_("This sale waited too long on the device to be recorded; tell the pengurus."))


def sale_result(sale: Sale) -> dict:
    """What a sync answers for a recorded sale: the same every time the sale is sent."""
    discrepancies = db.session.scalars(select(StockDiscrepancy.lot_id).where(StockDiscrepancy.sale_id == sale.id)).all()
    return {"status": "recorded", "sale_id": sale.id, "number": sale.number, "total": sale.total,
            "discrepancies": len(discrepancies)}


def sync_offline_sale(client_uuid: str, token: str, sold_at: datetime, lines: list[OfflineLine],
                      cash_received: int | None = None, synced_by: User | None = None) -> dict:
    """Record one sale made offline, exactly once (see the module doc). Returns `sale_result`."""
    client_uuid = (client_uuid or "").strip().lower()
    if not UUID_PATTERN.match(client_uuid):
        raise DomainError(_("This sale has no valid device number."))
    recorded = once.first_claim(client_uuid, OFFLINE_ACTION)
    if recorded is not None:
        # Sent again (its answer was lost): the first answer, whatever happened to the kasir since (switched
        # off, the token grown old). Only with a token of the kasir who made it: a replay changes nothing.
        try:
            same_kasir = _signed(token)[0] == recorded.actor_id
        except BadSignature:
            same_kasir = False
        if not same_kasir:
            raise DomainError(_("This sale was already recorded for another cashier."))
        return sale_result(db.session.get(Sale, recorded.result_id))
    kasir = kasir_from_token(token, sold_at)
    with transaction():
        first = once.claim(client_uuid, OFFLINE_ACTION, kasir)
        if first is not None:
            return sale_result(db.session.get(Sale, first))
        _check_time(sold_at)
        sale = _record(kasir, sold_at, lines, cash_received, synced_by)
        once.remember(client_uuid, sale.id)
        result = sale_result(sale)
    return result


def record_refused(synced_by: User, client_uuid: str, message: str, sold_at_text: str, lines: list) -> None:
    """A sale the server refused stays on the phone (to retry or discard there); the pengurus sees it in
    the audit log: when it was made, what it held, why it was refused, from whose phone."""
    items = ", ".join(f"{line.get('quantity')} × {str(line.get('code', ''))[:16]}" for line in lines[:MAX_LINES]
                      if isinstance(line, dict))
    with transaction():
        record_event(synced_by, "sale.offline_refused", None,
                     f"{client_uuid[:64]} sold_at={str(sold_at_text)[:40]} lines=[{items}]: {message}",
                     when=str(sold_at_text)[:40], lines=items[:500], reason=message)


def _record(kasir: User, sold_at: datetime, lines: list[OfflineLine], cash_received: int | None,
            synced_by: User | None) -> Sale:
    if not lines or len(lines) > MAX_LINES:
        raise DomainError(_("Add at least one item before recording the sale."))
    wanted: dict[str, int] = {}
    for line in lines:
        code = (line.code or "").strip().upper()
        wanted[code] = wanted.get(code, 0) + services._check_quantity(line.quantity, "lines")
    lots = {lot.code: lot for lot in db.session.scalars(
        select(ConsignmentLot).where(ConsignmentLot.code.in_(wanted)).options(selectinload(ConsignmentLot.product)))}
    if set(wanted) - set(lots):
        raise DomainError(_("A lot in this sale no longer exists."))
    services.lock_lots(lot.id for lot in lots.values())
    total = sum(lots[code].unit_price * qty for code, qty in wanted.items())
    if cash_received is None:
        cash_received = total
    if not isinstance(cash_received, int) or isinstance(cash_received, bool) or cash_received > MAX_RUPIAH:
        raise DomainError(_("This sale's cash received is not a valid amount."))
    if cash_received < total:
        raise DomainError(_("Cash received (%(cash)s) is less than the total (%(total)s).",
                            cash=services.format_rupiah(cash_received if isinstance(cash_received, int) else 0),
                            total=services.format_rupiah(total)))
    sale = services.new_sale(kasir, channel="offline", payment_method="cash", total=total,
                             cash_received=cash_received, when=sold_at)
    for code, qty in wanted.items():
        services.sell_from_lot(sale, lots[code], qty, kasir)
    db.session.flush()
    balances = services.on_hand_by_lot(lot.id for lot in lots.values())
    short = []
    for code, qty in wanted.items():
        lot = lots[code]
        if balances[lot.id] < 0:
            missing = min(qty, -balances[lot.id])
            db.session.add(StockDiscrepancy(lot_id=lot.id, sale_id=sale.id, quantity=missing))
            short.append((missing, lot.product.name, lot.code))
    items = [(q, lots[c].product.name, c) for c, q in wanted.items()]
    record_event(kasir, OFFLINE_ACTION, sale, f"{sale.number} offline at {sold_at:%Y-%m-%d %H:%M:%S} total={total} "
                                              f"lines={list(wanted.items())} synced_by={getattr(synced_by, 'id', None)}",
                 items=items, total=total, number=sale.number)
    for missing, product, code in short:
        record_event(kasir, "stock.discrepancy", sale, f"{code} short={missing} by {sale.number}",
                     quantity=missing, product=product, lot=code, number=sale.number)
    return sale


# --- discrepancies ----------------------------------------------------------------------------------

def open_discrepancies(limit: int = 50) -> list[StockDiscrepancy]:
    return list(db.session.scalars(
        select(StockDiscrepancy).where(StockDiscrepancy.resolved_at.is_(None))
        .options(selectinload(StockDiscrepancy.lot).selectinload(ConsignmentLot.product),
                 selectinload(StockDiscrepancy.sale))
        .order_by(StockDiscrepancy.id).limit(limit)))


def count_open_discrepancies() -> int:
    from sqlalchemy import func

    return int(db.session.scalar(select(func.count(StockDiscrepancy.id))
                                 .where(StockDiscrepancy.resolved_at.is_(None))) or 0)


def lot_discrepancies(lot_id: int) -> list[StockDiscrepancy]:
    return list(db.session.scalars(select(StockDiscrepancy).where(StockDiscrepancy.lot_id == lot_id)
                                   .options(selectinload(StockDiscrepancy.sale)).order_by(StockDiscrepancy.id)))


@dataclass(frozen=True)
class ShelfExpectation:
    """What the ledger says should be in the gerai of one lot, in its three parts: units free to sell (the
    lot's balance), units held for orders or QRIS codes not paid yet (reserve − release movements), and units
    sold online, paid, still waiting to be handed over (their online_sale is in the balance already, the goods
    are not gone yet). A pengurus counting the lot counts all three."""
    balance: int
    held: int
    awaiting: int

    @property
    def expected(self) -> int:
        return self.balance + self.held + self.awaiting


def shelf_expectations(lot_ids) -> dict[int, ShelfExpectation]:
    """`ShelfExpectation` per lot, read from these lots' movements and open orders only."""
    from sqlalchemy import func

    from orders import states as order_states
    from orders.models import Order, OrderLine

    from .models import KIND_RELEASE, KIND_RESERVE, StockMovement

    lot_ids = sorted(set(lot_ids))
    if not lot_ids:
        return {}
    balances = services.on_hand_by_lot(lot_ids)
    held = dict(db.session.execute(
        select(StockMovement.lot_id, -func.sum(StockMovement.quantity))
        .where(StockMovement.lot_id.in_(lot_ids), StockMovement.kind.in_((KIND_RESERVE, KIND_RELEASE)))
        .group_by(StockMovement.lot_id)).all())
    awaiting = dict(db.session.execute(
        select(OrderLine.lot_id, func.sum(OrderLine.quantity)).join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.lot_id.in_(lot_ids), Order.payment_method == order_states.PAY_ONLINE,
               Order.status.in_((order_states.PAID, order_states.READY)))
        .group_by(OrderLine.lot_id)).all())
    return {lot_id: ShelfExpectation(balances[lot_id], int(held.get(lot_id) or 0), int(awaiting.get(lot_id) or 0))
            for lot_id in lot_ids}


def resolve_discrepancy(actor: User, discrepancy_id: int, note: str, *, counted: int, once_key: str | None = None,
                        expected: int | None = None) -> StockDiscrepancy:
    """Pengurus settles a lot's discrepancies by counting it: `counted` is how many units of the lot are
    really in the gerai (on the shelf, held for orders, waiting to be handed over). A count correction of
    counted − what the ledger expects (see `ShelfExpectation`; it may be zero, or negative) makes the ledger
    say what is there, so no unit that is not on the shelf appears later (when a held order is cancelled, or
    after the other sale of the unit was voided). Every sale's money stays as it was paid. Closes every open
    discrepancy of the lot (one count settles the lot). `expected`, the expectation the page showed, is a
    compare-and-set: if the lot moved since, the count is refused and the pengurus counts again. Once."""
    with transaction():
        first = once.claim(once_key, "stock.discrepancy_resolve", actor)
        if first is not None:
            return db.session.get(StockDiscrepancy, first)
        note = (note or "").strip()
        if len(note) < 3:
            raise DomainError(_("Describe what happened (at least a few words)."), field="note")
        if not isinstance(counted, int) or isinstance(counted, bool) or counted < 0 \
                or counted > services.MAX_QUANTITY:
            raise DomainError(_("Type how many units of this lot you counted in the gerai (0 or more)."),
                              field="counted")
        found = db.session.get(StockDiscrepancy, discrepancy_id)
        if found is None:
            raise NotFound(_("Discrepancy not found."))
        services.lock_lots([found.lot_id])
        db.session.refresh(found)
        if found.resolved_at is not None:
            raise DomainError(_("This discrepancy was already resolved."))
        lot = found.lot
        shelf = shelf_expectations([lot.id])[lot.id]
        if expected is not None and expected != shelf.expected:
            raise DomainError(_("The stock of lot %(code)s changed since this page was shown (now %(n)d expected "
                                "in the gerai); count again.", code=lot.code, n=shelf.expected), field="counted")
        correction = counted - shelf.expected
        movement = None
        if correction:
            movement = services.append_movement(
                lot, KIND_ADJUSTMENT, correction, actor,
                reason=f"count_correction: {found.sale.number}: counted {counted}, ledger {shelf.expected}: {note}")
            db.session.flush()
        now = utcnow()
        closed = db.session.scalars(select(StockDiscrepancy).where(StockDiscrepancy.lot_id == lot.id,
                                                                    StockDiscrepancy.resolved_at.is_(None))).all()
        for row in closed:
            row.resolved_at, row.resolved_by_id = now, actor.id
            row.resolution_movement_id = movement.id if movement is not None else None
            row.resolution_note = note
        record_event(actor, "stock.discrepancy_resolve", lot,
                     f"{lot.code} counted={counted} expected={shelf.expected} (balance={shelf.balance} "
                     f"held={shelf.held} awaiting={shelf.awaiting}) correction={correction:+d} "
                     f"for {[row.sale.number for row in closed]}: {note}",
                     quantity=found.quantity, counted=counted, expected=shelf.expected, correction=f"{correction:+d}",
                     product=lot.product.name, lot=lot.code, number=", ".join(row.sale.number for row in closed),
                     reason=note)
        once.remember(once_key, found.id)
    return found


def _lots_to_check():
    """Lots whose goods may not all be there: an open discrepancy, or a balance below zero."""
    from sqlalchemy import union

    return union(select(StockDiscrepancy.lot_id).where(StockDiscrepancy.resolved_at.is_(None)),
                 select(ConsignmentLot.id).where(ConsignmentLot.on_hand < 0))


def _open_order_clause():
    """Orders whose goods are still in the gerai: pay-at-gerai waiting or confirmed, online waiting for payment,
    paid or ready — any payment method, until handed over (`OPEN_STATUSES`)."""
    from orders import states as order_states
    from orders.models import Order

    return Order.status.in_(order_states.OPEN_STATUSES)


def orders_hit_by_discrepancies(order_ids) -> set[int]:
    """Of these online orders (pay at the gerai or Midtrans), the open ones with units of a lot that has an
    open discrepancy, or whose balance is below zero (counted short after one: the goods kept for the order
    are not all there): an offline sale may have taken goods kept for them, so the kasir checks the shelf
    before handing the order over."""
    from orders.models import Order, OrderLine

    order_ids = list(order_ids)
    if not order_ids:
        return set()
    rows = db.session.scalars(
        select(OrderLine.order_id).join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.order_id.in_(order_ids), _open_order_clause(), OrderLine.lot_id.in_(_lots_to_check()))
        .distinct())
    return set(rows)


def open_orders_to_check(limit: int = 50) -> list:  # of orders.services.OrderSummary
    """Every open online order (both payment methods) holding or awaiting goods of a lot to check, oldest first."""
    from orders.models import Order, OrderLine
    from orders.services import OrderSummary

    hit = select(OrderLine.order_id).where(OrderLine.lot_id.in_(_lots_to_check()))
    return [OrderSummary(*row) for row in db.session.execute(
        select(*OrderSummary.COLUMNS).where(Order.id.in_(hit), _open_order_clause()).order_by(Order.id).limit(limit))]


def open_orders_by_lot(lot_ids) -> dict[int, list]:
    """For the discrepancies page: the open online orders holding or awaiting units of each lot."""
    from orders.models import Order, OrderLine

    lot_ids = sorted(set(lot_ids))
    result: dict[int, list] = {lot_id: [] for lot_id in lot_ids}
    if not lot_ids:
        return result
    rows = db.session.execute(select(OrderLine.lot_id, Order).join(Order, Order.id == OrderLine.order_id)
                              .where(OrderLine.lot_id.in_(lot_ids), _open_order_clause())
                              .order_by(Order.id)).all()
    for lot_id, order in rows:
        if order not in result[lot_id]:
            result[lot_id].append(order)
    return result
