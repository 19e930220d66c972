"""The kasir's QRIS screen (/gerai/kasir/qris/<id>): the QR, the amount and a countdown; a POST that asks
Midtrans whether it is paid (the page's script sends it every few seconds) and a POST that cancels the QR.
Thin: parse, call a service, render. GET never changes data."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from marketplace.i18n import gettext as _
from flask_login import current_user

from marketplace.errors import DomainError, NotFound
from marketplace.models import ROLE_KASIR, ROLE_PENGURUS
from marketplace.security import roles_required
from marketplace.timeutil import utcnow

from . import services
from .forms import RefundForm
from .models import CANCELLED, EXPIRED, FAILED, PAID, REFUND_NEEDED, CounterPayment

bp = Blueprint("qris", __name__, url_prefix="/gerai/kasir/qris", template_folder="templates", cli_group=None)

STAFF = (ROLE_KASIR, ROLE_PENGURUS)
POLL_MS = 3000


@bp.app_context_processor
def qris_helpers():
    return {"qris_dynamic": services.dynamic_mode,
            "qris_waiting": lambda: services.pending_for(current_user) if current_user.is_authenticated else None,
            "qris_refunds_owed": services.refunds_owed}


def ending_message(payment: CounterPayment) -> str:
    """What the kasir is told when a QR ends without a sale."""
    return {
        EXPIRED: _("The QRIS code expired before it was paid. Nothing was recorded; the items are still in the cart."),
        CANCELLED: _("The QRIS payment was cancelled. Nothing was recorded; the items are still in the cart."),
        FAILED: _("The QRIS payment did not go through. Nothing was recorded; the items are still in the cart."),
    }.get(payment.status, "")


def _payment_or_404(payment_id: int) -> CounterPayment:
    try:
        return services.get_payment(payment_id)
    except NotFound:
        abort(404)


def _next_url(payment: CounterPayment) -> str | None:
    """Where the kasir goes now: the receipt once paid, back to the cart once ended, nowhere while waiting."""
    if payment.status == PAID and payment.sale_id:
        return url_for("consignment.receipt", sale_id=payment.sale_id)
    if not payment.is_pending:
        return url_for("consignment.pos")
    return None


def _answer(payment: CounterPayment, problem: str = ""):
    """JSON for the page's script, a redirect for a plain form post."""
    url = _next_url(payment)
    if url and payment.status != PAID:
        flash(ending_message(payment), "error")
    if request.accept_mimetypes.best == "application/json":
        return {"status": payment.status, "url": url, "message": problem}
    if problem:
        flash(problem, "error")
    return redirect(url or url_for("qris.show", payment_id=payment.id))


@bp.get("/<int:payment_id>")
@roles_required(*STAFF)
def show(payment_id: int):
    payment = _payment_or_404(payment_id)
    if payment.status == PAID and payment.sale_id:
        return redirect(url_for("consignment.receipt", sale_id=payment.sale_id))
    seconds_left = max(int((payment.expires_at - utcnow()).total_seconds()), 0)
    return render_template("qris/pay.html", payment=payment, seconds_left=seconds_left, poll_ms=POLL_MS,
                           qr=services.qr_svg(payment) if payment.qr_string else None,
                           ending=ending_message(payment),
                           refund_form=RefundForm() if payment.status == REFUND_NEEDED else None)


@bp.post("/<int:payment_id>/cek")
@roles_required(*STAFF)
def check(payment_id: int):
    payment = _payment_or_404(payment_id)
    try:
        payment = services.check_payment(payment.id, current_user)
    except DomainError as exc:  # Midtrans could not answer: nothing changed, the page asks again
        current_app.logger.info("QRIS check %s: %s", payment.number, exc.message)
        return _answer(services.get_payment(payment.id), exc.message)
    return _answer(payment)


@bp.post("/<int:payment_id>/batal")
@roles_required(*STAFF)
def cancel(payment_id: int):
    payment = _payment_or_404(payment_id)
    try:
        payment = services.cancel_payment(current_user, payment.id)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("qris.show", payment_id=payment.id))
    if payment.status == PAID:
        flash(_("The shopper had already paid: the sale is recorded."), "success")
    return redirect(_next_url(payment) or url_for("qris.show", payment_id=payment.id))


@bp.post("/<int:payment_id>/dikembalikan")
@roles_required(ROLE_PENGURUS)
def refund(payment_id: int):
    """A pengurus records how a QRIS payment that arrived after its QR ended went back to the shopper."""
    payment = _payment_or_404(payment_id)
    form = RefundForm()
    if form.validate_on_submit():
        try:
            services.record_refund(current_user, payment.id, form.note.data, once_key=form.once.data)
        except DomainError as exc:
            flash(exc.message, "error")
        else:
            flash(_("The refund is recorded."), "success")
    else:
        flash(_("Write how the money went back to the shopper, e.g. the transfer reference."), "error")
    return redirect(url_for("qris.show", payment_id=payment.id))
