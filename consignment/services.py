"""Consignment rules. Every function owns its transaction and writes an audit event.

Concurrency (no oversell): a stock-reducing service
  1. locks the lots it touches — PostgreSQL: SELECT … FOR UPDATE in id order (no deadlocks);
  2. appends its movements (append_movement also adds each one to its lot's balance, `on_hand`, with an
     atomic UPDATE in the same transaction);
  3. re-reads the lots' balances and refuses (rolling everything back) if any lot went negative.
The ledger stays the source of truth: `flask check-ledger` proves balance = SUM(movements) for every lot.
On SQLite the first INSERT takes the database's single write lock (the driver opens the
transaction at the first write, and busy_timeout makes a second writer wait rather than fail), so
steps 2–3 run alone and see every sale committed before them. Either way two kasir selling the last
unit at the same moment sell it once; the loser gets a clear message.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import NamedTuple
from datetime import date, datetime, timedelta

from marketplace.i18n import gettext as _
from sqlalchemy import and_, bindparam, delete, func, or_, select, update
from sqlalchemy.orm import selectinload

from catalog.models import STATUS_ARCHIVED, STATUS_DRAFT, Product
from catalog.search import drain_outbox_quietly, search_products
from catalog.services import register_product_for_intake
from marketplace import once
from marketplace.audit import record_event
from marketplace.cooperative import current_cooperative
from marketplace.errors import DomainError, NotFound
from marketplace.extensions import db
from marketplace.models import Member, User
from marketplace.numbering import add_numbered
from marketplace.money import format_rupiah
from marketplace.timeutil import local_midnight_utc, local_today, utcnow
from marketplace.transaction import dialect_insert, transaction
from notifications import services as notify

from . import daily
from .models import (ADJUSTMENT_REASONS, KIND_ADJUSTMENT, KIND_INTAKE, KIND_ONLINE_SALE, KIND_RETURN, KIND_SALE, KIND_VOID,
                     PAYMENT_METHODS, ConsignmentAgreement, ConsignmentLot, PosCartLine, ReturnSlip, Sale, SaleLine,
                     SaleVoid, StockDiscrepancy, StockMovement)

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: easy to read aloud and type
CODE_LENGTH = 6
MAX_QUANTITY = 100_000
DEFAULT_COMMISSION_BP = 1500


# --- commission ------------------------------------------------------------------------------------

def parse_percent(text: str) -> int:
    """'15' -> 1500 bp, '12,5' or '12.5' -> 1250 bp. Raises DomainError for anything else."""
    cleaned = (text or "").strip().replace("%", "").replace(",", ".")
    whole, _dot, frac = cleaned.partition(".")
    if not whole.isdigit() or (frac and (not frac.isdigit() or len(frac) > 2)):
        raise DomainError(_("Write the commission as a percentage, e.g. 15 or 12,5."), field="commission")
    bp = int(whole) * 100 + int((frac or "0").ljust(2, "0"))
    if bp > 10000:
        raise DomainError(_("The commission cannot be more than 100 percent."), field="commission")
    return bp


def format_percent(bp: int) -> str:
    whole, frac = divmod(bp, 100)
    return f"{whole}%" if not frac else f"{whole},{frac:02d}".rstrip("0") + "%"


def commission_amount(line_total: int, commission_bp: int) -> int:
    """The cooperative's commission in whole Rupiah, rounded half up."""
    return (line_total * commission_bp + 5000) // 10000


def commission_in_force(member_id: int, category_id: int | None, on: date) -> tuple[int, ConsignmentAgreement | None]:
    """The member's rate on a day: a category-specific agreement beats a general one; the latest
    start wins; without an agreement the cooperative's default applies."""
    valid = and_(ConsignmentAgreement.member_id == member_id, ConsignmentAgreement.valid_from <= on,
                 or_(ConsignmentAgreement.valid_to.is_(None), ConsignmentAgreement.valid_to >= on))
    scope = ConsignmentAgreement.category_id.is_(None)
    if category_id is not None:
        scope = or_(scope, ConsignmentAgreement.category_id == category_id)
    agreement = db.session.scalar(
        select(ConsignmentAgreement).where(valid, scope)
        .order_by(ConsignmentAgreement.category_id.is_(None), ConsignmentAgreement.valid_from.desc(),
                  ConsignmentAgreement.id.desc()).limit(1))
    if agreement is not None:
        return agreement.commission_bp, agreement
    coop = current_cooperative()
    return (coop.default_commission_bp if coop else DEFAULT_COMMISSION_BP), None


def member_share_per_unit(product) -> tuple[int, int]:
    """(commission rate in bp, Rupiah the member receives per unit) at today's agreement and price."""
    rate, _agreement = commission_in_force(product.member_id, product.category_id, local_today())
    return rate, product.price - commission_amount(product.price, rate)


def create_agreement(actor: User, *, member_id: int, commission_bp: int, valid_from: date,
                     valid_to: date | None = None, category_id: int | None = None, note: str = "") -> ConsignmentAgreement:
    with transaction():
        member = db.session.get(Member, member_id)
        if member is None:
            raise DomainError(_("Member not found."), field="member_id")
        if not 0 <= commission_bp <= 10000:
            raise DomainError(_("The commission cannot be more than 100 percent."), field="commission")
        if valid_to is not None and valid_to < valid_from:
            raise DomainError(_("The end date is before the start date."), field="valid_to")
        agreement = ConsignmentAgreement(member_id=member_id, category_id=category_id, commission_bp=commission_bp,
                                         valid_from=valid_from, valid_to=valid_to, note=(note or "").strip(),
                                         created_by_id=actor.id)
        db.session.add(agreement)
        db.session.flush()
        record_event(actor, "agreement.create", agreement,
                     f"member={member.business_name} rate={format_percent(commission_bp)} "
                     f"category={category_id} from={valid_from} to={valid_to}",
                     member=member.business_name, commission=format_percent(commission_bp))
    return agreement


# --- the ledger ------------------------------------------------------------------------------------

def on_hand(lot_id: int) -> int:
    """Units of a lot on hand: its maintained balance (= SUM of its movements, see check_ledger)."""
    return int(db.session.scalar(select(ConsignmentLot.on_hand).where(ConsignmentLot.id == lot_id)) or 0)


def on_hand_by_lot(lot_ids) -> dict[int, int]:
    lot_ids = list(lot_ids)
    if not lot_ids:
        return {}
    rows = db.session.execute(select(ConsignmentLot.id, ConsignmentLot.on_hand).where(ConsignmentLot.id.in_(lot_ids)))
    result = {lot_id: 0 for lot_id in lot_ids}
    result.update({lot_id: int(qty) for lot_id, qty in rows})
    return result


def lock_lots(lot_ids) -> None:
    """Row locks on PostgreSQL, in id order; SQLite serialises writers itself (see module doc)."""
    if db.session.get_bind().dialect.name != "sqlite":
        db.session.execute(select(ConsignmentLot.id).where(ConsignmentLot.id.in_(sorted(set(lot_ids))))
                           .order_by(ConsignmentLot.id).with_for_update())


def assert_stock_not_negative(lots: dict[int, ConsignmentLot], taken: dict[int, int]) -> None:
    """After appending movements: refuse if any lot went below zero. `taken` is what this
    transaction took out per lot, so the message can say what was on hand before it."""
    db.session.flush()
    for lot_id, qty in on_hand_by_lot(lots).items():  # the balances, updated under this transaction's locks
        if qty < 0:
            lot = lots[lot_id]
            raise DomainError(_("Not enough stock of %(product)s (lot %(code)s): only %(n)d left.",
                                product=lot.product.name, code=lot.code, n=qty + taken.get(lot_id, 0)),
                              field="lines")


def append_movement(lot: ConsignmentLot, kind: str, quantity: int, actor: User, reason: str = "", **refs) -> StockMovement:
    """The one place stock moves: append the movement and add its quantity to the lot's balance, in the
    caller's transaction (under the lot's lock where stock goes out). The balance changes by one atomic
    UPDATE … SET on_hand = on_hand + :q, never by a value computed in Python."""
    movement = StockMovement(lot=lot, lot_id=lot.id, kind=kind, quantity=quantity, reason=reason,
                             actor_id=actor.id, **refs)
    db.session.add(movement)
    db.session.execute(update(ConsignmentLot).where(ConsignmentLot.id == lot.id)
                       .values(on_hand=ConsignmentLot.on_hand + quantity)
                       .execution_options(synchronize_session=False))
    if lot in db.session:
        db.session.expire(lot, ["on_hand"])
    return movement


@dataclass(frozen=True)
class LedgerMismatch:
    lot_id: int
    code: str
    balance: int
    ledger: int


def ledger_mismatches() -> list[LedgerMismatch]:
    """Lots whose maintained balance differs from the SUM of their movements (the ledger). Empty when
    everything agrees; read in one statement, so it sees one consistent snapshot."""
    ledger = (select(StockMovement.lot_id, func.sum(StockMovement.quantity).label("qty"))
              .group_by(StockMovement.lot_id).subquery())
    summed = func.coalesce(ledger.c.qty, 0)
    rows = db.session.execute(
        select(ConsignmentLot.id, ConsignmentLot.code, ConsignmentLot.on_hand, summed)
        .outerjoin(ledger, ledger.c.lot_id == ConsignmentLot.id)
        .where(ConsignmentLot.on_hand != summed).order_by(ConsignmentLot.id))
    return [LedgerMismatch(lot_id, code, int(balance), int(qty)) for lot_id, code, balance, qty in rows]


def rebuild_balances() -> int:
    """Set every lot's balance from its movements (after a bulk load that bypassed append_movement).
    Returns how many lots changed. Run while nothing else writes stock."""
    with transaction():
        ledger = (select(func.coalesce(func.sum(StockMovement.quantity), 0))
                  .where(StockMovement.lot_id == ConsignmentLot.id).scalar_subquery())
        changed = db.session.execute(update(ConsignmentLot).where(ConsignmentLot.on_hand != ledger)
                                     .values(on_hand=ledger).execution_options(synchronize_session=False)).rowcount
    return changed


def _check_quantity(quantity, field: str = "quantity") -> int:
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
        raise DomainError(_("The quantity must be a whole number above 0."), field=field)
    if quantity > MAX_QUANTITY:
        raise DomainError(_("That quantity is too large."), field=field)
    return quantity


# --- intake ----------------------------------------------------------------------------------------

def _new_code() -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))
        if not db.session.scalar(select(ConsignmentLot.id).where(ConsignmentLot.code == code)):
            return code


@dataclass(frozen=True)
class NewProduct:
    """A product registered at intake (not in the catalog yet): it becomes a draft of the member's."""
    member_id: int | None
    name: str
    unit: str = "pcs"
    same_name_ok: bool = False  # the business already has a product of that name, and that is meant


def receive_lot(actor: User, *, product_id: int | None = None, quantity: int, unit_price: int | None = None,
                expiry_date: date | None = None, note: str = "", new_product: NewProduct | None = None,
                once_key: str | None = None) -> ConsignmentLot:
    """Record goods received from a member: a lot with a printable code and an intake movement.

    With `new_product` the product is registered in the same transaction, so a refused intake
    (a past best-before date, say) leaves no orphan draft behind. Sent twice with the same
    `once_key`, it records one lot and returns it both times."""
    with transaction(after_commit=drain_outbox_quietly if new_product else None):
        first = once.claim(once_key, "lot.receive", actor)
        if first is not None:
            return db.session.get(ConsignmentLot, first)
        if new_product is not None:
            if not (new_product.name or "").strip():
                raise DomainError(_("Choose a product, or fill in a new product's name, member and price."),
                                  field="product_id")
            if unit_price is None:
                raise DomainError(_("A new product needs a price."), field="unit_price")
            product = register_product_for_intake(actor, new_product.member_id, new_product.name, unit_price,
                                                  new_product.unit or "pcs", same_name_ok=new_product.same_name_ok)
        else:
            product = db.session.get(Product, product_id) if product_id else None
        if product is None:
            raise DomainError(_("Product not found."), field="product_id")
        if product.status == STATUS_ARCHIVED:
            raise DomainError(_("This product is archived; publish it again before taking stock in."),
                              field="product_id")
        quantity = _check_quantity(quantity)
        price = product.price if unit_price is None else unit_price
        if not isinstance(price, int) or isinstance(price, bool) or price <= 0:
            raise DomainError(_("The price must be more than Rp0."), field="unit_price")
        today = local_today()
        if expiry_date is not None and expiry_date < today:
            raise DomainError(_("The expiry date has already passed."), field="expiry_date")
        rate, agreement = commission_in_force(product.member_id, product.category_id, today)
        lot = ConsignmentLot(code=_new_code(), member_id=product.member_id, product_id=product.id,
                             quantity_received=quantity, unit_price=price, commission_bp=rate,
                             agreement_id=agreement.id if agreement else None, expiry_date=expiry_date,
                             note=(note or "").strip(), received_by_id=actor.id)
        db.session.add(lot)
        db.session.flush()
        append_movement(lot, KIND_INTAKE, quantity, actor, reason=KIND_INTAKE)  # a code: shown translated
        record_event(actor, "lot.receive", lot, f"{lot.code} {product.name} qty={quantity} "
                                                f"price={price} commission_bp={rate}",
                     lot=lot.code, product=product.name, quantity=quantity, price=price)
        once.remember(once_key, lot.id)
    return lot


def find_lot(code: str) -> ConsignmentLot | None:
    return db.session.scalar(select(ConsignmentLot).where(ConsignmentLot.code == (code or "").strip().upper())
                             .options(selectinload(ConsignmentLot.product)))


def find_product_ids(text: str, limit: int = 20) -> list[int]:
    """Ids of the products matching a search, best first, for the counter and the intake: the search
    engine's matches (typo-tolerant, stemmed, by name, category or business name) among published
    products, then drafts (not in the public index) whose name contains the text."""
    text = (text or "").strip()
    if len(text) < 2:
        return []
    ids = search_products(text, limit=limit).ids
    drafts = db.session.scalars(select(Product.id).where(Product.status == STATUS_DRAFT,
                                                         Product.name.ilike(f"%{text}%"))
                                .order_by(Product.name).limit(limit))
    return ids + [pid for pid in drafts if pid not in ids]


def find_products(text: str, limit: int = 20) -> list[Product]:
    """The products of `find_product_ids`, with their member and photos; archived products are left out."""
    ids = find_product_ids(text, limit)
    if not ids:
        return []
    products = {p.id: p for p in db.session.scalars(
        select(Product).where(Product.id.in_(ids), Product.status != STATUS_ARCHIVED)
        .options(selectinload(Product.member), selectinload(Product.photos)))}
    return [products[pid] for pid in ids if pid in products]


@dataclass(frozen=True, slots=True)
class LotForSale:
    """A lot the POS search offers: what the kasir reads to pick it, and its balance."""
    id: int
    code: str
    unit_price: int
    on_hand: int
    product_id: int
    product_name: str
    member_name: str


def lots_for_sale_search(text: str, limit: int = 20) -> list[LotForSale]:
    """Lots with stock for the POS search: a label code typed in full, or the lots of the products the
    search engine finds (oldest lot first within a product, products in the engine's order). Reads the
    balances of those products' lots only, as rows (no lot, product or member objects are built)."""
    text = (text or "").strip()
    if len(text) < 2:
        return []
    rank = {pid: i for i, pid in enumerate(find_product_ids(text))}  # archived products have no stock to sell
    found = or_(ConsignmentLot.product_id.in_(list(rank)), ConsignmentLot.code == text.upper()) if rank \
        else ConsignmentLot.code == text.upper()
    rows = db.session.execute(
        select(ConsignmentLot.id, ConsignmentLot.code, ConsignmentLot.unit_price, ConsignmentLot.on_hand,
               ConsignmentLot.product_id, Product.name, Member.business_name)
        .join(Product, Product.id == ConsignmentLot.product_id).join(Member, Member.id == ConsignmentLot.member_id)
        .where(ConsignmentLot.on_hand > 0, found)
        .order_by(ConsignmentLot.received_at, ConsignmentLot.id).limit(limit * 5)).all()
    rows.sort(key=lambda row: rank.get(row.product_id, -1))  # stable: oldest lot first within a product
    return [LotForSale(*row) for row in rows[:limit]]


# --- counter sale ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class LineRequest:
    lot_id: int
    quantity: int


def _number(prefix: str, obj_id: int, when: datetime) -> str:
    return f"{prefix}{when:%y%m%d}-{obj_id:06d}"


def new_sale(actor: User, *, channel: str, payment_method: str, total: int, cash_received: int | None = None,
             payment_reference: str = "", when: datetime | None = None) -> Sale:
    """Start a sale inside the caller's transaction; its number comes from its id. `when`: the time it
    happened, if earlier than now (a sale made offline)."""
    now = when or utcnow()
    sale = Sale(channel=channel, payment_method=payment_method, total=total,
                cash_received=cash_received, payment_reference=(payment_reference or "").strip(),
                cashier_id=actor.id, created_at=now)
    return add_numbered(sale, lambda sale_id: _number("J", sale_id, now))


def sell_from_lot(sale: Sale, lot: ConsignmentLot, quantity: int, actor: User, kind: str = KIND_SALE,
                  unit_price: int | None = None) -> SaleLine:
    """Append a sale line (price and commission snapshotted) and its stock movement."""
    price = lot.unit_price if unit_price is None else unit_price
    line_total = price * quantity
    line = SaleLine(sale=sale, lot_id=lot.id, product_id=lot.product_id, member_id=lot.member_id, quantity=quantity,
                    unit_price=price, line_total=line_total, commission_bp=lot.commission_bp,
                    commission=commission_amount(line_total, lot.commission_bp))
    db.session.add(line)
    db.session.flush()
    append_movement(lot, kind, -quantity, actor, reason=sale.number, sale_line_id=line.id)
    daily.record([line], +1)
    notify.notify_sale_line(line, lot)  # the member hears of it; rolled back with the sale
    return line


def record_counter_sale(actor: User, lines: list[LineRequest], payment_method: str,
                        cash_received: int | None = None, payment_reference: str = "",
                        once_key: str | None = None) -> Sale:
    """Sell lines from lots at the counter; prices and commission are snapshotted on each line.
    Sent twice with the same `once_key`, it records one sale and returns it both times."""
    with transaction():
        first = once.claim(once_key, "sale.record", actor)
        if first is not None:
            return db.session.get(Sale, first)
        sale = _sell_at_counter(actor, lines, payment_method, cash_received, payment_reference)
        once.remember(once_key, sale.id)
    return sale


def _sell_at_counter(actor: User, lines: list[LineRequest], payment_method: str, cash_received: int | None,
                     payment_reference: str, expected_total: int | None = None) -> Sale:
    if not lines:
        raise DomainError(_("Add at least one item before recording the sale."), field="lines")
    if payment_method not in PAYMENT_METHODS:
        raise DomainError(_("Choose how the shopper pays."), field="payment_method")
    wanted: dict[int, int] = {}
    for line in lines:
        wanted[line.lot_id] = wanted.get(line.lot_id, 0) + _check_quantity(line.quantity, "lines")
    lots = {lot.id: lot for lot in db.session.scalars(
        select(ConsignmentLot).where(ConsignmentLot.id.in_(wanted))
        .options(selectinload(ConsignmentLot.product)))}
    missing = set(wanted) - set(lots)
    if missing:
        raise DomainError(_("A lot in this sale no longer exists."), field="lines")
    lock_lots(wanted)
    total = sum(lots[lot_id].unit_price * qty for lot_id, qty in wanted.items())
    if expected_total is not None and total != expected_total:
        raise DomainError(_("The cart changed on another screen; check the items and the total (%(total)s).",
                            total=format_rupiah(total)), field="lines")
    if payment_method == "cash":
        if cash_received is None:
            cash_received = total
        if cash_received < total:
            raise DomainError(_("Cash received (%(cash)s) is less than the total (%(total)s).",
                                cash=format_rupiah(cash_received), total=format_rupiah(total)),
                              field="cash_received")
    else:
        cash_received = None
    sale = new_sale(actor, channel="counter", payment_method=payment_method, total=total,
                    cash_received=cash_received, payment_reference=payment_reference)
    for lot_id, qty in wanted.items():
        sell_from_lot(sale, lots[lot_id], qty, actor)
    assert_stock_not_negative(lots, wanted)
    record_event(actor, "sale.record", sale, f"{sale.number} {payment_method} total={total} "
                                             f"lines={[(lots[i].code, q) for i, q in wanted.items()]}",
                 items=[(q, lots[i].product.name, lots[i].code) for i, q in wanted.items()], total=total)
    return sale


# --- the counter's cart ------------------------------------------------------------------------------
# Kept on the server, one per kasir: an old cookie cannot bring back a cart that was already sold, and
# checking out empties the cart in the same transaction as the sale.

@dataclass
class CartLine:
    lot: ConsignmentLot
    quantity: int
    on_hand: int

    @property
    def total(self) -> int:
        return self.lot.unit_price * self.quantity


def cart_lines(cashier: User) -> list[CartLine]:
    rows = db.session.execute(select(PosCartLine.lot_id, PosCartLine.quantity)
                              .where(PosCartLine.cashier_id == cashier.id).order_by(PosCartLine.id)).all()
    if not rows:
        return []
    lots = {lot.id: lot for lot in db.session.scalars(
        select(ConsignmentLot).where(ConsignmentLot.id.in_([r.lot_id for r in rows]))
        .options(selectinload(ConsignmentLot.product), selectinload(ConsignmentLot.member)))}
    stock = on_hand_by_lot(lots)
    return [CartLine(lots[r.lot_id], r.quantity, stock[r.lot_id]) for r in rows]


def add_to_cart(cashier: User, lot: ConsignmentLot, quantity: int) -> int:
    """Add units of a lot to the kasir's cart; returns the quantity of that lot now in the cart."""
    quantity = _check_quantity(quantity)
    with transaction():
        stmt = dialect_insert(PosCartLine).values(cashier_id=cashier.id, lot_id=lot.id, quantity=quantity,
                                                  added_at=utcnow())
        in_cart = db.session.execute(stmt.on_conflict_do_update(
            index_elements=["cashier_id", "lot_id"], set_={"quantity": PosCartLine.quantity + quantity})
            .returning(PosCartLine.quantity)).scalar_one()
    return in_cart


def set_cart_quantity(cashier: User, lot_id: int, quantity: int) -> None:
    """Change a cart line's quantity; 0 or less removes it."""
    with transaction():
        line = PosCartLine.cashier_id == cashier.id, PosCartLine.lot_id == lot_id
        if quantity <= 0:
            db.session.execute(delete(PosCartLine).where(*line))
        else:
            db.session.execute(PosCartLine.__table__.update().where(*line)
                               .values(quantity=_check_quantity(quantity)))


def clear_cart(cashier: User) -> None:
    with transaction():
        db.session.execute(delete(PosCartLine).where(PosCartLine.cashier_id == cashier.id))


def checkout_cart(cashier: User, payment_method: str, cash_received: int | None = None, payment_reference: str = "",
                  expected_total: int | None = None, once_key: str | None = None) -> Sale:
    """Sell what is in the kasir's cart and empty it, all or nothing. The cart is taken with one
    DELETE … RETURNING, so two checkouts of one cart (two tabs, two workers) sell it once; the same
    form sent twice (`once_key`) returns the first sale."""
    with transaction():
        first = once.claim(once_key, "sale.record", cashier)
        if first is not None:
            return db.session.get(Sale, first)
        taken = db.session.execute(delete(PosCartLine).where(PosCartLine.cashier_id == cashier.id)
                                   .returning(PosCartLine.lot_id, PosCartLine.quantity)).all()
        if not taken:
            raise DomainError(_("The cart is empty: this sale may already be recorded. Check the recent sales."))
        sale = _sell_at_counter(cashier, [LineRequest(row.lot_id, row.quantity) for row in taken], payment_method,
                                cash_received, payment_reference, expected_total)
        once.remember(once_key, sale.id)
    return sale


def void_sale(actor: User, sale_id: int, reason: str, once_key: str | None = None) -> Sale:
    """Void a sale: a SaleVoid record and reversing movements; nothing is deleted or edited.
    The same form sent twice (`once_key`) voids once and shows the voided sale."""
    with transaction():
        if once.claim(once_key, "sale.void", actor) is not None:
            return get_sale(sale_id)
        sale = void_sale_in_transaction(actor, sale_id, reason)
        once.remember(once_key, sale.id)
    return sale


def void_sale_in_transaction(actor: User, sale_id: int, reason: str) -> Sale:
    reason = (reason or "").strip()
    if len(reason) < 3:
        raise DomainError(_("Write why the sale is voided."), field="reason")
    sale = db.session.scalar(select(Sale).where(Sale.id == sale_id).options(selectinload(Sale.lines)))
    if sale is None:
        raise NotFound(_("Sale not found."))
    lock_lots([line.lot_id for line in sale.lines] or [0])
    if db.session.scalar(select(SaleVoid.id).where(SaleVoid.sale_id == sale.id)):
        raise DomainError(_("This sale was already voided."))
    db.session.add(SaleVoid(sale_id=sale.id, reason=reason, actor_id=actor.id))
    for line in sale.lines:
        append_movement(line.lot, KIND_VOID, line.quantity, actor, reason=f"void {sale.number}: {reason}",
                        sale_line_id=line.id)
    daily.record(sale.lines, -1)
    _close_discrepancies_of_voided(sale, actor, reason)
    record_event(actor, "sale.void", sale, f"{sale.number} total={sale.total} reason={reason}",
                 number=sale.number, total=sale.total, reason=reason)
    return sale


def _close_discrepancies_of_voided(sale: Sale, actor: User, reason: str) -> None:
    """A voided offline sale's goods are back in the ledger: its stock discrepancies close without a count
    correction (one would put units on the shelf that are not there), noted with the void's reason."""
    db.session.execute(update(StockDiscrepancy)
                       .where(StockDiscrepancy.sale_id == sale.id, StockDiscrepancy.resolved_at.is_(None))
                       .values(resolved_at=utcnow(), resolved_by_id=actor.id, resolution_note=reason)
                       .execution_options(synchronize_session=False))


# --- returns and adjustments ------------------------------------------------------------------------

def return_to_member(actor: User, member_id: int, items: list[LineRequest], note: str = "",
                     once_key: str | None = None) -> ReturnSlip:
    """Hand unsold goods back to their member, with a printable slip (one slip per `once_key`)."""
    with transaction():
        first = once.claim(once_key, "stock.return", actor)
        if first is not None:
            return db.session.get(ReturnSlip, first)
        member = db.session.get(Member, member_id)
        if member is None:
            raise DomainError(_("Member not found."))
        wanted = {}
        for item in items:
            if item.quantity:
                wanted[item.lot_id] = wanted.get(item.lot_id, 0) + _check_quantity(item.quantity, "lines")
        if not wanted:
            raise DomainError(_("Fill in how many items go back to the member."), field="lines")
        lots = {lot.id: lot for lot in db.session.scalars(
            select(ConsignmentLot).where(ConsignmentLot.id.in_(wanted)).options(selectinload(ConsignmentLot.product)))}
        if set(wanted) - set(lots) or any(lot.member_id != member_id for lot in lots.values()):
            raise DomainError(_("Only this member's own lots can be returned to them."), field="lines")
        lock_lots(wanted)
        now = utcnow()
        slip = add_numbered(ReturnSlip(member_id=member_id, note=(note or "").strip(), actor_id=actor.id, created_at=now),
                            lambda slip_id: _number("R", slip_id, now))
        for lot_id, qty in wanted.items():
            append_movement(lots[lot_id], KIND_RETURN, -qty, actor, reason=slip.note or slip.number, return_slip_id=slip.id)
        assert_stock_not_negative(lots, wanted)
        notify.notify_stock_taken([(lots[lot_id], qty) for lot_id, qty in wanted.items()])  # low stock, if so
        record_event(actor, "stock.return", slip, f"{slip.number} {member.business_name} "
                                                  f"{[(lots[i].code, q) for i, q in wanted.items()]}", number=slip.number,
                     member=member.business_name, items=[(q, lots[i].product.name, lots[i].code) for i, q in wanted.items()])
        once.remember(once_key, slip.id)
    return slip


def adjust_stock(actor: User, lot_id: int, quantity: int, reason_code: str, note: str,
                 once_key: str | None = None) -> StockMovement:
    """Record damaged, lost or expired goods (negative) or a count correction (either sign).
    The same form sent twice (`once_key`) records one movement."""
    with transaction():
        first = once.claim(once_key, "stock.adjust", actor)
        if first is not None:
            return db.session.get(StockMovement, first)
        lot = db.session.get(ConsignmentLot, lot_id)
        if lot is None:
            raise NotFound(_("Lot not found."))
        if reason_code not in ADJUSTMENT_REASONS:
            raise DomainError(_("Choose a reason for the adjustment."), field="reason")
        note = (note or "").strip()
        if len(note) < 3:
            raise DomainError(_("Describe what happened (at least a few words)."), field="note")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity == 0 or abs(quantity) > MAX_QUANTITY:
            raise DomainError(_("The quantity must be a whole number other than 0."), field="quantity")
        if reason_code != "count_correction" and quantity > 0:
            quantity = -quantity  # damaged/lost/expired always take stock out
        lock_lots([lot.id])
        movement = append_movement(lot, KIND_ADJUSTMENT, quantity, actor, reason=f"{reason_code}: {note}")
        assert_stock_not_negative({lot.id: lot}, {lot.id: -quantity})
        notify.notify_stock_taken([(lot, -quantity)])  # she hears if it took her product to her low-stock threshold
        record_event(actor, "stock.adjust", lot, f"{lot.code} {quantity:+d} {reason_code}: {note}",
                     lot=lot.code, product=lot.product.name, quantity=quantity, reason_code=reason_code, note=note)
        once.remember(once_key, movement.id)
    return movement


# --- reading the ledger ----------------------------------------------------------------------------
# Pages read the lots' balances (ConsignmentLot.on_hand) and scope before they aggregate: a page's lots
# first, then only those lots' movements. Nothing here sums the whole ledger.

SOLD_KINDS = (KIND_SALE, KIND_ONLINE_SALE, KIND_VOID)


def product_stock(product_ids) -> dict[int, int]:
    """Units on hand per product across all its lots."""
    product_ids = list(product_ids)
    if not product_ids:
        return {}
    rows = db.session.execute(
        select(ConsignmentLot.product_id, func.sum(ConsignmentLot.on_hand))
        .where(ConsignmentLot.product_id.in_(product_ids)).group_by(ConsignmentLot.product_id))
    result = {pid: 0 for pid in product_ids}
    result.update({pid: int(q) for pid, q in rows})
    return result


@dataclass(frozen=True, slots=True)
class LotRow:
    """A lot as the stock tables show it (the member's goods, the gerai's stock, returns, aging): a row read with
    its product's and member's names, not a lot object with two more loaded (a fifth of a member's page)."""
    id: int
    code: str
    received_at: datetime
    unit_price: int
    quantity_received: int
    expiry_date: date | None
    on_hand: int
    member_id: int
    product_name: str
    member_name: str
    sold: int = 0

    @property
    def age_days(self) -> int:
        return (utcnow() - self.received_at).days


class MemberName(NamedTuple):
    id: int
    business_name: str


_LOT_ROW = (ConsignmentLot.id, ConsignmentLot.code, ConsignmentLot.received_at, ConsignmentLot.unit_price,
            ConsignmentLot.quantity_received, ConsignmentLot.expiry_date, ConsignmentLot.on_hand,
            ConsignmentLot.member_id, Product.name, Member.business_name)


def sold_by_lot(lot_ids) -> dict[int, int]:
    """Units sold (net of voids) per lot, read from those lots' movements only."""
    lot_ids = list(lot_ids)
    if not lot_ids:
        return {}
    rows = db.session.execute(select(StockMovement.lot_id, func.sum(-StockMovement.quantity))
                              .where(StockMovement.lot_id.in_(lot_ids), StockMovement.kind.in_(SOLD_KINDS))
                              .group_by(StockMovement.lot_id))
    return {lot_id: int(sold) for lot_id, sold in rows}


def _lot_rows(stmt, with_sold: bool = True) -> list[LotRow]:
    """The lots `stmt` (a SELECT of ConsignmentLot: where, order, limit) chooses, as rows."""
    rows = db.session.execute(stmt.with_only_columns(*_LOT_ROW).select_from(ConsignmentLot)
                              .join(Product, Product.id == ConsignmentLot.product_id)
                              .join(Member, Member.id == ConsignmentLot.member_id)).all()
    sold = sold_by_lot(row.id for row in rows) if with_sold else {}
    return [LotRow(*row, sold=sold.get(row.id, 0)) for row in rows]


def lots_overview(member_id: int | None = None, only_in_stock: bool = False, limit: int = 200,
                  offset: int = 0) -> list[LotRow]:
    """Lots newest first (one member's, or everyone's), with their balance and units sold."""
    stmt = (select(ConsignmentLot).order_by(ConsignmentLot.received_at.desc(), ConsignmentLot.id.desc())
            .limit(limit).offset(offset))
    if member_id is not None:
        stmt = stmt.where(ConsignmentLot.member_id == member_id)
    if only_in_stock:
        stmt = stmt.where(ConsignmentLot.on_hand > 0)
    return _lot_rows(stmt)


def _aging_select(older_than_days: int, today: date | None, member_id: int | None):
    today = today or local_today()
    cutoff = local_midnight_utc(today - timedelta(days=older_than_days))
    stmt = (select(ConsignmentLot)
            .where(ConsignmentLot.on_hand > 0, or_(ConsignmentLot.received_at < cutoff,
                                                   ConsignmentLot.expiry_date <= today + timedelta(days=7)))
            .order_by(ConsignmentLot.member_id, ConsignmentLot.received_at, ConsignmentLot.id))
    if member_id is not None:
        stmt = stmt.where(ConsignmentLot.member_id == member_id)
    return stmt


def aging_lots(older_than_days: int, today: date | None = None, member_id: int | None = None,
               limit: int | None = None, offset: int = 0) -> list[LotRow]:
    """Lots still on the shelf that are older than N days or past (or within 7 days of) expiry, by member."""
    stmt = _aging_select(older_than_days, today, member_id).limit(limit).offset(offset)
    return _lot_rows(stmt, with_sold=False)


def by_member(rows: list[LotRow]) -> dict[MemberName, list[LotRow]]:
    """Lot rows grouped by their member, in the order read."""
    grouped: dict[MemberName, list[LotRow]] = {}
    for row in rows:
        grouped.setdefault(MemberName(row.member_id, row.member_name), []).append(row)
    return grouped


def aging_report(older_than_days: int, today: date | None = None, member_id: int | None = None,
                 limit: int | None = None, offset: int = 0) -> dict[MemberName, list[LotRow]]:
    """aging_lots grouped by member."""
    return by_member(aging_lots(older_than_days, today, member_id, limit, offset))


def aging_export(older_than_days: int, member_id: int | None = None):
    """A SELECT of every aging row, for a streamed CSV export (marketplace.views.csv_download)."""
    return (_aging_select(older_than_days, None, member_id)
            .with_only_columns(Member.business_name, ConsignmentLot.code, Product.name, ConsignmentLot.received_at,
                               ConsignmentLot.expiry_date, ConsignmentLot.on_hand, ConsignmentLot.unit_price)
            .select_from(ConsignmentLot).join(Member, Member.id == ConsignmentLot.member_id).join(Product, Product.id == ConsignmentLot.product_id))


def lot_movements(lot_id: int) -> list[StockMovement]:
    return list(db.session.scalars(select(StockMovement).where(StockMovement.lot_id == lot_id)
                                   .options(selectinload(StockMovement.actor)).order_by(StockMovement.id)))


@dataclass(frozen=True, slots=True)
class MemberSaleLine:
    """One line of a member's recent sales, as her page shows it."""
    lot_id: int
    sold_at: datetime
    is_void: bool
    product_name: str
    quantity: int
    line_total: int
    commission: int

    @property
    def member_share(self) -> int:
        return self.line_total - self.commission


_MEMBER_SALES = (select(SaleLine.lot_id, Sale.created_at, SaleVoid.id.is_not(None), Product.name, SaleLine.quantity,
                        SaleLine.line_total, SaleLine.commission)
                 .join(Sale, Sale.id == SaleLine.sale_id).join(Product, Product.id == SaleLine.product_id)
                 .outerjoin(SaleVoid, SaleVoid.sale_id == Sale.id)
                 .where(SaleLine.member_id == bindparam("member_id"))
                 # The order of the (member_id, sale_id) index: read from its end and stop after `limit`. By line id
                 # alone, SQLite sorted all her lines and PostgreSQL walked every line ever sold (10 ms at 1M).
                 .order_by(SaleLine.sale_id.desc(), SaleLine.id.desc()).limit(bindparam("limit")))


def member_sales(member_id: int, limit: int = 100) -> list[MemberSaleLine]:
    """A member's newest sale lines, as rows in one query (as ORM objects with their sales, voids and products
    they were a fifth of her /gerai/saya)."""
    return [MemberSaleLine(*row) for row in db.session.execute(_MEMBER_SALES, {"member_id": member_id, "limit": limit})]


def recent_sales(limit: int = 50) -> list[Sale]:
    return list(db.session.scalars(select(Sale).options(selectinload(Sale.lines), selectinload(Sale.void),
                                                        selectinload(Sale.cashier))
                                   .order_by(Sale.id.desc()).limit(limit)))


def get_sale(sale_id: int) -> Sale:
    sale = db.session.scalar(select(Sale).where(Sale.id == sale_id).options(
        selectinload(Sale.lines).selectinload(SaleLine.product), selectinload(Sale.lines).selectinload(SaleLine.lot),
        selectinload(Sale.void), selectinload(Sale.cashier)))
    if sale is None:
        raise NotFound(_("Sale not found."))
    return sale
