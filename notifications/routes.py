"""The member's inbox and preferences, staff's "Messages to send" list, the WhatsApp webhook, and the
`send-notifications` command. Thin: parse, call a service, render. GET never changes data."""
from __future__ import annotations

import json

import click
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from marketplace.i18n import gettext as _
from flask_login import current_user

from marketplace.errors import DomainError
from marketplace.extensions import csrf
from marketplace.models import ROLE_KASIR, ROLE_PENGURUS
from marketplace.security import public, roles_required, signed_in

from . import messages as m
from . import sender, services, whatsapp
from .forms import ActionForm, PreferencesForm

bp = Blueprint("notifications", __name__, template_folder="templates", cli_group=None)
STAFF = (ROLE_KASIR, ROLE_PENGURUS)


@bp.app_template_global()
def notification_summary(user):
    """For the dashboard: the newest few notifications and the unread count (members), or how many
    messages wait for staff."""
    if not user.is_authenticated:
        return None
    return {"latest": services.inbox(user, 1, 3), "unread": services.unread_count(user),
            "to_send": services.count_to_send(user) if user.has_role(*STAFF) else 0}


@bp.app_template_filter("event_label")
def event_label(event: str) -> str:
    return m.label(event)


# --- the member's inbox and choices ------------------------------------------------------------------

@bp.get("/saya/pemberitahuan")
@signed_in
def inbox():
    page = services.inbox(current_user, request.args.get("page", 1, type=int))
    return render_template("notifications/inbox.html", page=page, unread=services.unread_count(current_user),
                           form=ActionForm())


@bp.post("/saya/pemberitahuan/dibaca")
@signed_in
def mark_read():
    if ActionForm().validate_on_submit():
        services.mark_all_read(current_user)
    return redirect(url_for("notifications.inbox"))


@bp.get("/saya/pemberitahuan/pengaturan")
@signed_in
def preferences():
    prefs = services.preferences(current_user.id)
    form = PreferencesForm(data={**{e: e in prefs.whatsapp_events for e in m.CHOOSABLE},
                                 "sold_mode": prefs.sold_mode, "low_stock_threshold": prefs.low_stock_threshold})
    return render_template("notifications/preferences.html", form=form)


@bp.post("/saya/pemberitahuan/pengaturan")
@signed_in
def preferences_save():
    form = PreferencesForm()
    if form.validate_on_submit():
        try:
            services.save_preferences(current_user, [e for e in m.CHOOSABLE if form[e].data], form.sold_mode.data,
                                      form.low_stock_threshold.data)
        except DomainError as exc:
            flash(exc.message, "error")
        else:
            flash(_("Saved. Every notification also stays in your inbox here."), "success")
            return redirect(url_for("notifications.preferences"))
    return render_template("notifications/preferences.html", form=form), 400


# --- staff: messages to send by hand, and failed ones --------------------------------------------------

@bp.get("/gerai/pesan")
@roles_required(*STAFF)
def to_send():
    return render_template("notifications/to_send.html", manual=services.to_send_by_hand(current_user),
                           failed=services.failed_messages(current_user), form=ActionForm(),
                           configured=services.whatsapp_configured())


@bp.post("/gerai/pesan/<int:notification_id>/kirim")
@roles_required(*STAFF)
def tap(notification_id: int):
    if not ActionForm().validate_on_submit():
        return redirect(url_for("notifications.to_send"))
    try:
        link = services.tap_to_send(current_user, notification_id)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("notifications.to_send"))
    return redirect(link, 303)


@bp.post("/gerai/pesan/<int:notification_id>/ulang")
@roles_required(*STAFF)
def send_again(notification_id: int):
    if ActionForm().validate_on_submit():
        try:
            services.send_again(current_user, notification_id)
            flash(_("The message is waiting to be sent again."), "success")
        except DomainError as exc:
            flash(exc.message, "error")
    return redirect(url_for("notifications.to_send"))


# --- the webhook -----------------------------------------------------------------------------------------

@bp.get("/webhooks/whatsapp")
@public
def webhook_verify():
    """Meta's subscription check: echo hub.challenge when hub.verify_token is ours."""
    expected = current_app.config["WHATSAPP_VERIFY_TOKEN"]
    if (request.args.get("hub.mode") == "subscribe" and expected
            and whatsapp.verify_token_ok(request.args.get("hub.verify_token", ""), expected)):
        return request.args.get("hub.challenge", ""), 200, {"Content-Type": "text/plain; charset=utf-8"}
    abort(403)


@bp.post("/webhooks/whatsapp")
@public
@csrf.exempt  # Meta cannot send our CSRF token: the request is authenticated by its signature instead
def webhook():
    raw = request.get_data(cache=False)
    if not whatsapp.signature_ok(raw, request.headers.get("X-Hub-Signature-256"),
                                 current_app.config["WHATSAPP_APP_SECRET"]):
        abort(403)
    try:
        payload = json.loads(raw)
    except ValueError:
        abort(400)
    if not isinstance(payload, dict):
        abort(400)
    services.apply_statuses(payload)
    return {"status": "ok"}


# --- the sender -------------------------------------------------------------------------------------------

@bp.cli.command("send-notifications")
@click.option("--loop", is_flag=True, help="Keep running: send every few seconds (a long-running worker).")
@click.option("--interval", type=float, default=5.0, show_default=True, help="Seconds between rounds (--loop).")
@click.option("--scan-minutes", type=float, default=60.0, show_default=True,
              help="Minutes between scans for expiring/aging goods and daily summaries (--loop).")
def send_notifications_command(loop, interval, scan_minutes):
    """Queue the calendar notifications (expiring, aging, daily summaries) and send what is due over the
    WhatsApp Cloud API. Without WHATSAPP_TOKEN the messages wait on staff's "Messages to send" list."""
    if loop:
        click.echo("Sending notifications; stop with Ctrl-C or SIGTERM.")
        sender.run_forever(interval, scan_minutes, echo=click.echo)
        return
    queued = services.scan()
    run = sender.send_due()
    click.echo(f"Queued {queued}; sent {run.sent}, will retry {run.retried}, failed {run.failed}, "
               f"unknown after a stopped sender {run.lost_leases}.")
    if not services.whatsapp_configured():
        click.echo("WhatsApp is not configured (WHATSAPP_TOKEN, WHATSAPP_PHONE_NUMBER_ID): "
                   "messages wait on the staff's list.")
