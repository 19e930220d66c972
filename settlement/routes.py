"""Settlement routes: periods and statements (pengurus acts, pengawas reads, members read their own),
the member's balance page, and the audit log."""
from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from marketplace.i18n import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from marketplace.audit import ACTION_GROUPS, describe, group_prefixes
from marketplace.cooperative import current_cooperative
from marketplace.errors import DomainError, NotFound
from marketplace.extensions import db
from marketplace.models import ROLE_MEMBER, ROLE_PENGAWAS, ROLE_PENGURUS, AuditEvent, User
from marketplace.money import format_rupiah
from marketplace.security import roles_required
from marketplace.text import whatsapp_link
from marketplace.timeutil import local_midnight_utc, local_today
from marketplace.views import Page, absolute_url, csv_download, page_arg, show_domain_error

from . import services
from .forms import ClosePeriodForm, OpenPeriodForm, PaymentForm, payout_method_labels
from .pdf import statement_pdf

bp = Blueprint("settlement", __name__, template_folder="templates")
BOARD = (ROLE_PENGURUS, ROLE_PENGAWAS)
MEMBERS_PER_PAGE = 25  # like the stock report: a page a phone scrolls through


@bp.app_context_processor
def labels():
    return {"payout_labels": payout_method_labels()}


def _period_or_404(period_id: int):
    try:
        return services.get_period(period_id)
    except NotFound:
        abort(404)


def _readable_payout(payout_id: int):
    """Pengurus and pengawas read every statement; a member reads only their own."""
    try:
        payout = services.get_payout(payout_id)
    except NotFound:
        abort(404)
    if current_user.has_role(*BOARD):
        return payout
    if current_user.has_role(ROLE_MEMBER) and current_user.member and current_user.member.id == payout.member_id:
        return payout
    abort(403)


def _render_periods(form: OpenPeriodForm, status: int = 200):
    draft = services.open_draft()
    live = services.draft_figures(draft.cutoff_date) if draft else None
    return render_template("settlement/periods.html", periods=services.periods(), form=form, open_draft=draft,
                           live=live), status


@bp.get("/penyelesaian")
@roles_required(*BOARD)
def periods():
    form = OpenPeriodForm()
    form.cutoff_date.data = services.default_cutoff(local_today())
    return _render_periods(form)


@bp.post("/penyelesaian")
@roles_required(ROLE_PENGURUS)
def period_open():
    form = OpenPeriodForm()
    if form.validate_on_submit():
        try:
            period = services.open_period(current_user, form.cutoff_date.data, form.note.data or "",
                                          once_key=form.once.data)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            return redirect(url_for("settlement.period_detail", period_id=period.id))
    return _render_periods(form, 422)


@bp.get("/penyelesaian/<int:period_id>")
@roles_required(*BOARD)
def period_detail(period_id: int):
    period = _period_or_404(period_id)
    page = None
    if not period.is_closed:
        drafts, has_next = services.statements_page(period.cutoff_date, page_arg(), MEMBERS_PER_PAGE)
        page = Page(page_arg(), MEMBERS_PER_PAGE, drafts, has_next)
    return render_template("settlement/period.html", period=period, drafts=page.items if page else [], page=page,
                           close_form=ClosePeriodForm())


@bp.post("/penyelesaian/<int:period_id>/tutup")
@roles_required(ROLE_PENGURUS)
def period_close(period_id: int):
    form = ClosePeriodForm()
    if not form.validate_on_submit():
        return redirect(url_for("settlement.period_detail", period_id=period_id))
    try:
        period = services.close_period(current_user, period_id, once_key=form.once.data)
    except NotFound:
        abort(404)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("settlement.period_detail", period_id=period_id))
    flash(_("Settlement closed: %(n)d statements frozen.", n=len(period.payouts)), "success")
    return redirect(url_for("settlement.period_detail", period_id=period_id))


@bp.get("/penyelesaian/<int:period_id>/pembayaran.csv")
@roles_required(*BOARD)
def period_csv(period_id: int):
    period = _period_or_404(period_id)
    rows = [[p.id, p.member.business_name, p.member.bank_name, p.member.bank_account_number,
             p.member.bank_account_holder, p.gross, p.commission, p.fees, p.adjustments, p.payable,
             p.payment.paid_at.isoformat(timespec="minutes") if p.payment else "",
             p.payment.method if p.payment else "", p.payment.reference if p.payment else ""] for p in period.payouts]
    return csv_download(f"pembayaran-{period.cutoff_date}.csv",
                        ["statement", "member", "bank", "account_number", "account_holder", "gross_idr",
                         "commission_idr", "fees_idr", "adjustments_idr", "payable_idr", "paid_at", "method",
                         "reference"], rows)


def _whatsapp_link(payout) -> str:
    url = absolute_url("settlement.statement", payout_id=payout.id)
    text = _("Statement #%(id)d up to %(date)s: sales %(gross)s, commission %(commission)s, to be paid %(payable)s. "
             "Details: %(url)s", id=payout.id, date=payout.period.cutoff_date.isoformat(),
             gross=format_rupiah(payout.gross), commission=format_rupiah(payout.commission),
             payable=format_rupiah(payout.payable), url=url)
    return whatsapp_link(payout.member.whatsapp, text)


def _render_statement(payout, form: PaymentForm, status: int = 200):
    return render_template("settlement/statement.html", payout=payout, form=form,
                           whatsapp=_whatsapp_link(payout) if current_user.has_role(*BOARD) else None), status


@bp.get("/pernyataan/<int:payout_id>")
@roles_required(*BOARD, ROLE_MEMBER)
def statement(payout_id: int):
    return _render_statement(_readable_payout(payout_id), PaymentForm())


@bp.post("/pernyataan/<int:payout_id>")
@roles_required(ROLE_PENGURUS)
def statement_pay(payout_id: int):
    payout = _readable_payout(payout_id)
    form = PaymentForm()
    if form.validate_on_submit():
        try:
            services.mark_paid(current_user, payout.id, form.method.data, form.reference.data or "",
                               form.acknowledged_by.data or "", once_key=form.once.data)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            flash(_("Statement marked paid."), "success")
            return redirect(url_for("settlement.statement", payout_id=payout.id))
    return _render_statement(services.get_payout(payout.id), form, 422)


@bp.get("/pernyataan/<int:payout_id>.pdf")
@roles_required(*BOARD, ROLE_MEMBER)
def statement_pdf_download(payout_id: int):
    payout = _readable_payout(payout_id)
    coop = current_cooperative()
    labels = {"title": _("Statement"), "cutoff": _("Sales up to"),
              "columns": (_("Date"), _("Sale"), _("Product"), _("Qty"), _("Gross"), _("Commission")),
              "gross": _("Gross sales"), "commission": _("Commission"), "fees": _("Fees"),
              "adjustments": _("Adjustments"), "payable": _("Payable to member"), "carried": _("Carried forward"),
              "paid": _("Paid"), "unpaid": _("Not paid yet"),
              "methods": {k: str(v) for k, v in payout_method_labels().items()}}
    body = statement_pdf(payout, coop.name if coop else "", labels)
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="pernyataan-{payout.id}.pdf"'})


@bp.get("/saya/saldo")
@roles_required(ROLE_MEMBER)
def my_balance():
    member = current_user.member or abort(404)
    return render_template("settlement/my_balance.html", member=member, balance=services.member_balance(member.id),
                           payouts=services.member_payouts(member.id))


# --- audit log (pengurus, pengawas) -----------------------------------------------------------------

@bp.get("/admin/audit")
@roles_required(*BOARD)
def audit_log():
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    action = request.args.get("aksi", "").strip()
    actor_id = request.args.get("oleh", type=int)
    stmt = select(AuditEvent).options(selectinload(AuditEvent.actor)).order_by(AuditEvent.id.desc())
    if action:
        stmt = stmt.where(or_(*(AuditEvent.action.like(f"{prefix}%") for prefix in group_prefixes(action))))
    if actor_id:
        stmt = stmt.where(AuditEvent.actor_id == actor_id)
    for arg, op in (("dari", "ge"), ("sampai", "lt")):
        try:
            day = date.fromisoformat(request.args.get(arg, ""))
        except ValueError:
            continue
        bound = local_midnight_utc(day if op == "ge" else day + timedelta(days=1))
        stmt = stmt.where(AuditEvent.created_at >= bound if op == "ge" else AuditEvent.created_at < bound)
    events = db.session.scalars(stmt.limit(101).offset((page - 1) * 100)).all()
    actors = db.session.execute(select(User.id, User.name).where(User.role != ROLE_MEMBER).order_by(User.name)).all()
    return render_template("settlement/audit.html", events=events[:100], has_next=len(events) > 100, page=page,
                           actors=actors, action=action, actor_id=actor_id, groups=ACTION_GROUPS, describe=describe)
