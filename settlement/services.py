"""Settlement rules: open a period, preview statements, close (all or nothing, once), pay, read.

A statement covers exactly the member's sale lines that are paid, not voided, not yet settled and
sold up to the cut-off (counter and online alike). A sale voided after its line was settled is
carried into the member's next statement as a negative adjustment; a statement that comes out
negative pays 0 and carries the balance forward. Nothing frozen is ever edited.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from marketplace.i18n import gettext as _
from sqlalchemy import String, and_, cast, exists, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from consignment.daily import SalesDaily
from consignment.models import Sale, SaleLine, SaleVoid
from marketplace import once
from marketplace.audit import record_event
from marketplace.cooperative import current_cooperative
from marketplace.errors import DomainError, NotFound
from marketplace.extensions import db
from marketplace.models import Member, User
from marketplace.timeutil import local_midnight_utc, local_today, to_local, utcnow
from marketplace.transaction import transaction
from notifications import services as notify

from .models import (PAYOUT_METHODS, STATUS_CLOSED, STATUS_DRAFT, Payout, PayoutAdjustment, PayoutLine,
                     PayoutPayment, SettlementPeriod)


# --- statements (computed) -------------------------------------------------------------------------

@dataclass
class AdjustmentDraft:
    source: str
    amount: int
    description: str


@dataclass
class StatementDraft:
    member: Member
    gross: int = 0
    commission: int = 0
    line_count: int = 0
    adjustments: list[AdjustmentDraft] = field(default_factory=list)
    fees: int = 0

    @property
    def adjustment_total(self) -> int:
        return sum(a.amount for a in self.adjustments)

    @property
    def total(self) -> int:
        return self.gross - self.commission - self.fees + self.adjustment_total

    @property
    def payable(self) -> int:
        return max(self.total, 0)

    @property
    def carried_forward(self) -> int:
        return min(self.total, 0)


def _end_of(cutoff: date) -> datetime:
    return local_midnight_utc(date.fromordinal(cutoff.toordinal() + 1))


def _unsettled(end: datetime):
    """Conditions selecting sale lines that are paid, not voided, not settled and sold before `end`."""
    return and_(Sale.id == SaleLine.sale_id, Sale.created_at < end,
                ~exists().where(SaleVoid.sale_id == Sale.id),
                ~exists().where(PayoutLine.sale_line_id == SaleLine.id))


def _line_totals(end: datetime, member_ids: list[int] | None = None) -> dict[int, tuple[int, int, int]]:
    """member_id -> (gross, commission, lines) of the unsettled lines, aggregated in SQL over the lines
    themselves (one grouped query; with `member_ids`, over those members' lines only). Closing uses it."""
    stmt = (select(SaleLine.member_id, func.sum(SaleLine.line_total), func.sum(SaleLine.commission),
                   func.count(SaleLine.id)).select_from(SaleLine).join(Sale, Sale.id == SaleLine.sale_id)
            .where(_unsettled(end)).group_by(SaleLine.member_id))
    if member_ids is not None:
        stmt = stmt.where(SaleLine.member_id.in_(member_ids))
    return {mid: (int(g), int(c), int(n)) for mid, g, c, n in db.session.execute(stmt)}


def _daily_totals(cutoff: date, member_ids: list[int] | None = None) -> dict[int, tuple[int, int, int]]:
    """The same figures as `_line_totals`, from the daily sales figures (consignment.daily) and the frozen
    statements, without reading every unsettled line: what was sold up to the cut-off and not voided, minus
    what statements settled (their frozen totals), plus the settled lines voided since (they left the daily
    figures but not the statements). Three grouped queries over days, statements and voided sales."""
    def scoped(stmt, column):
        return stmt.where(column.in_(member_ids)) if member_ids is not None else stmt

    figures: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])

    def add(rows, sign):
        for mid, gross, commission, lines in rows:
            total = figures[mid]
            total[0], total[1], total[2] = total[0] + sign * int(gross), total[1] + sign * int(commission), \
                total[2] + sign * int(lines)

    add(db.session.execute(scoped(
        select(SalesDaily.member_id, func.sum(SalesDaily.gross), func.sum(SalesDaily.commission),
               func.sum(SalesDaily.lines))
        .where(SalesDaily.member_id > 0, SalesDaily.product_id == 0, SalesDaily.day <= cutoff)
        .group_by(SalesDaily.member_id), SalesDaily.member_id)), +1)
    add(db.session.execute(scoped(
        select(Payout.member_id, func.sum(Payout.gross), func.sum(Payout.commission), func.sum(Payout.line_count))
        .group_by(Payout.member_id), Payout.member_id)), -1)
    add(db.session.execute(scoped(
        select(SaleLine.member_id, func.sum(SaleLine.line_total), func.sum(SaleLine.commission), func.count())
        .join(PayoutLine, PayoutLine.sale_line_id == SaleLine.id)
        .where(SaleLine.sale_id.in_(select(SaleVoid.sale_id)))  # few: the query starts from the voids
        .group_by(SaleLine.member_id), SaleLine.member_id)), +1)
    return {mid: (g, c, n) for mid, (g, c, n) in figures.items() if n}


def _late_voids(end: datetime, member_ids: list[int] | None = None) -> list[tuple[SaleLine, SaleVoid]]:
    """Settled lines whose sale was voided afterwards, not yet carried into a statement."""
    source = literal("void:") + cast(SaleLine.id, String)
    voided = select(SaleVoid.sale_id).where(SaleVoid.created_at < end)  # few: the query starts from them
    stmt = (select(SaleLine, SaleVoid).join(SaleVoid, SaleVoid.sale_id == SaleLine.sale_id)
            .join(PayoutLine, PayoutLine.sale_line_id == SaleLine.id)
            .where(SaleLine.sale_id.in_(voided), ~exists().where(PayoutAdjustment.source == source))
            .options(selectinload(SaleLine.sale), selectinload(SaleLine.product)).order_by(SaleLine.id))
    if member_ids is not None:
        stmt = stmt.where(SaleLine.member_id.in_(member_ids))
    return [(line, void) for line, void in db.session.execute(stmt)]


def _carried_balances(member_ids: list[int] | None = None) -> list[Payout]:
    source = literal("carry:") + cast(Payout.id, String)
    stmt = select(Payout).where(Payout.carried_forward < 0, ~exists().where(PayoutAdjustment.source == source))
    if member_ids is not None:
        stmt = stmt.where(Payout.member_id.in_(member_ids))
    return list(db.session.scalars(stmt))


def compute_statements(cutoff: date, member_id: int | None = None, member_ids: list[int] | None = None,
                       from_lines: bool = False) -> list[StatementDraft]:
    """What each member would be paid if the period closed now with this cut-off (totals, not lines);
    every member's, or only those of `member_id` / `member_ids` (a page of members). Drafts read the daily
    sales figures; closing (`from_lines`) sums the sale lines themselves, the source of truth."""
    end = _end_of(cutoff)
    if member_id is not None:
        member_ids = [member_id]
    totals = _line_totals(end, member_ids) if from_lines else _daily_totals(cutoff, member_ids)
    adjustments: dict[int, list[AdjustmentDraft]] = defaultdict(list)
    for line, void in _late_voids(end, member_ids):
        adjustments[line.member_id].append(AdjustmentDraft(
            source=f"void:{line.id}", amount=-(line.line_total - line.commission),
            description=_("Sale %(number)s voided after payout: %(product)s × %(n)d (%(reason)s)",
                          number=line.sale.number, product=line.product.name, n=line.quantity, reason=void.reason)))
    for payout in _carried_balances(member_ids):
        adjustments[payout.member_id].append(AdjustmentDraft(
            source=f"carry:{payout.id}", amount=payout.carried_forward,
            description=_("Negative balance carried from statement #%(id)d", id=payout.id)))
    member_ids = set(totals) | set(adjustments)
    if not member_ids:
        return []
    members = {m.id: m for m in db.session.scalars(select(Member).where(Member.id.in_(member_ids)))}
    coop = current_cooperative()
    fee = coop.statement_fee if coop else 0
    drafts = []
    for mid in member_ids:
        gross, commission, count = totals.get(mid, (0, 0, 0))
        drafts.append(StatementDraft(member=members[mid], gross=gross, commission=commission, line_count=count,
                                     adjustments=adjustments.get(mid, []), fees=fee))
    return sorted(drafts, key=lambda d: d.member.business_name)


@dataclass(frozen=True)
class DraftFigures:
    """What the open settlement would freeze if it closed now."""
    statements: int
    payable: int


def draft_figures(cutoff: date) -> DraftFigures:
    """Live figures of an open settlement: the statements it would make and what they would pay
    (a few set-wise queries, whatever the number of members or lines)."""
    drafts = compute_statements(cutoff)
    return DraftFigures(statements=len(drafts), payable=sum(d.payable for d in drafts))


def statements_page(cutoff: date, page: int, members_per_page: int) -> tuple[list[StatementDraft], bool]:
    """The draft statements of one page of members (in name order), and whether more members follow.
    A page costs its members' unsettled lines, not the whole cooperative's."""
    ids = list(db.session.scalars(select(Member.id).order_by(Member.business_name, Member.id)
                                  .limit(members_per_page + 1).offset((page - 1) * members_per_page)))
    if not ids:
        return [], False
    return compute_statements(cutoff, member_ids=ids[:members_per_page]), len(ids) > members_per_page


# --- periods ---------------------------------------------------------------------------------------

def last_closed_cutoff() -> date | None:
    return db.session.scalar(select(func.max(SettlementPeriod.cutoff_date))
                             .where(SettlementPeriod.status == STATUS_CLOSED))


def default_cutoff(today: date) -> date:
    """The cut-off offered when opening a settlement: the end of last month, or today when the last
    closed settlement already reaches that far (a cut-off before it would be refused)."""
    end_of_last_month = today.replace(day=1) - timedelta(days=1)
    last = last_closed_cutoff()
    return end_of_last_month if last is None or end_of_last_month > last else today


def open_draft() -> SettlementPeriod | None:
    """The settlement that is open (at most one at a time)."""
    return db.session.scalar(select(SettlementPeriod).where(SettlementPeriod.status == STATUS_DRAFT)
                             .order_by(SettlementPeriod.id).limit(1))


def open_period(actor: User, cutoff: date, note: str = "", once_key: str | None = None) -> SettlementPeriod:
    with transaction():
        first = once.claim(once_key, "settlement.open", actor)
        if first is not None:
            return db.session.get(SettlementPeriod, first)
        if cutoff > local_today():
            raise DomainError(_("The cut-off date cannot be in the future."), field="cutoff_date")
        if db.session.scalar(select(SettlementPeriod.id).where(SettlementPeriod.status == STATUS_DRAFT)):
            raise DomainError(_("Another settlement is still open; close it first."), field="cutoff_date")
        last = last_closed_cutoff()
        if last is not None and cutoff < last:
            raise DomainError(_("The cut-off date is before the last closed settlement (%(date)s).",
                                date=last.isoformat()), field="cutoff_date")
        period = SettlementPeriod(cutoff_date=cutoff, note=(note or "").strip(), created_by_id=actor.id)
        db.session.add(period)
        db.session.flush()
        record_event(actor, "settlement.open", period, f"cutoff={cutoff}", cutoff=cutoff)
        once.remember(once_key, period.id)
    return period


def _freeze_statement(period: SettlementPeriod, draft: StatementDraft) -> Payout:
    """Create a member's payout row and its adjustments; its lines and totals are filled in set-wise."""
    payout = Payout(period_id=period.id, member_id=draft.member.id, gross=0, commission=0, fees=0, adjustments=0,
                    payable=0, carried_forward=0)
    db.session.add(payout)
    db.session.flush()
    db.session.add_all([PayoutAdjustment(payout_id=payout.id, source=a.source, amount=a.amount,
                                         description=a.description) for a in draft.adjustments])
    return payout


def close_period(actor: User, period_id: int, once_key: str | None = None) -> SettlementPeriod:
    """Freeze every member's statement in one transaction. Closing twice (double click, two tabs,
    a retried request) finds the period closed and returns it: one set of payouts, ever.

    Set-based, so its cost is a few statements per member plus one INSERT … SELECT for all lines:
    the lines are attached first and each payout's totals are then summed from *its own* lines, so a
    sale committed concurrently can never make a payout's totals disagree with its lines."""
    with transaction():
        once.claim(once_key, "settlement.close", actor)  # a repeat finds the period closed below
        closed = db.session.execute(
            update(SettlementPeriod)
            .where(SettlementPeriod.id == period_id, SettlementPeriod.status == STATUS_DRAFT)
            .values(status=STATUS_CLOSED, closed_by_id=actor.id, closed_at=utcnow())
            .execution_options(synchronize_session=False)).rowcount
        period = db.session.get(SettlementPeriod, period_id)
        if period is None:
            raise NotFound(_("Settlement not found."))
        if closed == 1:
            db.session.refresh(period)
            end = _end_of(period.cutoff_date)
            drafts = compute_statements(period.cutoff_date, from_lines=True)
            payouts = {d.member.id: _freeze_statement(period, d) for d in drafts}
            db.session.flush()
            db.session.execute(insert(PayoutLine).from_select(
                ["payout_id", "sale_line_id", "gross", "commission"],
                select(Payout.id, SaleLine.id, SaleLine.line_total, SaleLine.commission)
                .select_from(SaleLine).join(Sale, Sale.id == SaleLine.sale_id)
                .join(Payout, and_(Payout.period_id == period.id, Payout.member_id == SaleLine.member_id))
                .where(_unsettled(end))))
            sums = {pid: (int(g), int(c), int(n)) for pid, g, c, n in db.session.execute(
                select(PayoutLine.payout_id, func.sum(PayoutLine.gross), func.sum(PayoutLine.commission),
                       func.count())
                .join(Payout, Payout.id == PayoutLine.payout_id).where(Payout.period_id == period.id)
                .group_by(PayoutLine.payout_id))}
            total_gross = total_payable = 0
            for draft in drafts:
                payout = payouts[draft.member.id]
                gross, commission, line_count = sums.get(payout.id, (0, 0, 0))
                draft.gross, draft.commission, draft.line_count = gross, commission, line_count
                if not gross and not draft.adjustments:
                    db.session.delete(payout)  # its lines were voided meanwhile: nothing to state
                    continue
                payout.gross, payout.commission, payout.fees = gross, commission, draft.fees
                payout.line_count = line_count
                payout.adjustments, payout.payable = draft.adjustment_total, draft.payable
                payout.carried_forward = draft.carried_forward
                total_gross, total_payable = total_gross + gross, total_payable + draft.payable
            db.session.flush()
            db.session.expire(period, ["payouts"])
            notify.notify_statements_ready(period)
            record_event(actor, "settlement.close", period, f"cutoff={period.cutoff_date} members={len(drafts)} "
                                                            f"gross={total_gross} payable={total_payable}",
                         cutoff=period.cutoff_date, members=len(drafts), payable=total_payable)
        once.remember(once_key, period_id)
    return period


def mark_paid(actor: User, payout_id: int, method: str, reference: str = "", acknowledged_by: str = "",
              once_key: str | None = None) -> PayoutPayment:
    """Record how a statement was paid. Once per statement (UNIQUE payout_id); the same form sent
    twice (`once_key`) returns the first payment."""
    try:
        with transaction():
            first = once.claim(once_key, "payout.paid", actor)
            if first is not None:
                return db.session.get(PayoutPayment, first)
            payout = db.session.get(Payout, payout_id)
            if payout is None:
                raise NotFound(_("Statement not found."))
            if payout.payment is not None:
                raise DomainError(_("This statement was already paid."))
            if payout.payable <= 0:
                raise DomainError(_("Nothing to pay on this statement."))
            if payout.member.user_id == actor.id:  # a pengurus with a business of their own
                raise DomainError(_("Another pengurus records the payment of your own statement."))
            if method not in PAYOUT_METHODS:
                raise DomainError(_("Choose how the member was paid."), field="method")
            reference, acknowledged_by = (reference or "").strip(), (acknowledged_by or "").strip()
            if method != "cash" and not reference:
                raise DomainError(_("Write the transfer reference."), field="reference")
            if method == "cash" and not acknowledged_by:
                raise DomainError(_("Write the name of whoever received the cash."), field="acknowledged_by")
            payment = PayoutPayment(payout_id=payout.id, method=method, reference=reference,
                                    acknowledged_by=acknowledged_by, paid_by_id=actor.id)
            db.session.add(payment)
            db.session.flush()
            notify.notify_statement_paid(payout, payment)
            record_event(actor, "payout.paid", payout, f"member={payout.member_id} amount={payout.payable} "
                                                       f"{method} {reference} {acknowledged_by}".strip(),
                         member=payout.member.business_name, amount=payout.payable, method=method)
            once.remember(once_key, payment.id)
    except IntegrityError:
        raise DomainError(_("This statement was already paid."))
    return payment


# --- reading -----------------------------------------------------------------------------------------

def periods() -> list[SettlementPeriod]:
    return list(db.session.scalars(select(SettlementPeriod).options(selectinload(SettlementPeriod.payouts))
                                   .order_by(SettlementPeriod.cutoff_date.desc(), SettlementPeriod.id.desc())))


def get_period(period_id: int) -> SettlementPeriod:
    period = db.session.scalar(select(SettlementPeriod).where(SettlementPeriod.id == period_id).options(
        selectinload(SettlementPeriod.payouts).selectinload(Payout.member),
        selectinload(SettlementPeriod.payouts).selectinload(Payout.payment)))
    if period is None:
        raise NotFound(_("Settlement not found."))
    return period


def get_payout(payout_id: int) -> Payout:
    payout = db.session.scalar(select(Payout).where(Payout.id == payout_id).options(
        selectinload(Payout.lines).selectinload(PayoutLine.sale_line).selectinload(SaleLine.sale),
        selectinload(Payout.lines).selectinload(PayoutLine.sale_line).selectinload(SaleLine.product),
        selectinload(Payout.adjustment_rows), selectinload(Payout.payment), selectinload(Payout.member),
        selectinload(Payout.period)))
    if payout is None:
        raise NotFound(_("Statement not found."))
    return payout


def member_payouts(member_id: int) -> list[Payout]:
    return list(db.session.scalars(select(Payout).where(Payout.member_id == member_id)
                                   .options(selectinload(Payout.period), selectinload(Payout.payment))
                                   .order_by(Payout.id.desc())))


@dataclass
class Balance:
    unsettled_gross: int
    unsettled_commission: int
    adjustments: int

    @property
    def member_share(self) -> int:
        return self.unsettled_gross - self.unsettled_commission + self.adjustments


def member_balance(member_id: int) -> Balance:
    """Sold but not yet settled: what the member will see on the next statement (before fees)."""
    draft = compute_statements(local_today(), member_id)
    if not draft:
        return Balance(0, 0, 0)
    return Balance(draft[0].gross, draft[0].commission, draft[0].adjustment_total)


# --- public figures ----------------------------------------------------------------------------------

@dataclass
class Transparency:
    year: int
    active_members: int
    published_products: int
    units_sold: int
    paid_out: int
    paid_out_by_month: list[int]  # 12 entries, integer Rupiah
    last_settlement: date | None


def transparency(year: int | None = None) -> Transparency:
    """Totals for the public page: counts and sums only, never anything about one member."""
    from catalog.search import published_count

    year = year or local_today().year
    start, end = local_midnight_utc(date(year, 1, 1)), local_midnight_utc(date(year + 1, 1, 1))
    units = db.session.scalar(  # the year's daily totals (consignment.daily): at most 366 rows, not every line
        select(func.coalesce(func.sum(SalesDaily.units), 0))
        .where(SalesDaily.member_id == 0, SalesDaily.product_id == 0,
               SalesDaily.day >= date(year, 1, 1), SalesDaily.day <= date(year, 12, 31)))
    payments = db.session.execute(
        select(PayoutPayment.paid_at, Payout.payable).join(Payout, Payout.id == PayoutPayment.payout_id)
        .where(PayoutPayment.paid_at >= start, PayoutPayment.paid_at < end)).all()
    by_month = [0] * 12
    for paid_at, amount in payments:
        by_month[to_local(paid_at).month - 1] += amount
    return Transparency(
        year=year,
        active_members=db.session.scalar(select(func.count(Member.id)).where(Member.active.is_(True))),
        published_products=published_count(),
        units_sold=int(units or 0), paid_out=sum(by_month), paid_out_by_month=by_month,
        last_settlement=db.session.scalar(select(func.max(SettlementPeriod.cutoff_date))
                                          .where(SettlementPeriod.status == STATUS_CLOSED)),
    )
