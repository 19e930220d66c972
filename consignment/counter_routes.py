"""The counter on a phone (/gerai/kasir/…): search as you type, the installable shell that works offline
(manifest, service worker, offline page, snapshot of sellable lots), syncing sales queued on the device,
and the stock discrepancies an offline sale can leave (listed for pengurus, resolved with a correction)."""
from __future__ import annotations

import json
import re
from pathlib import Path

from flask import flash, jsonify, make_response, redirect, render_template, request, url_for
from marketplace.i18n import gettext as _
from marketplace.i18n import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.models import ROLE_PENGURUS
from marketplace.once import OnceForm, new_key
from marketplace.security import roles_required
from marketplace.views import show_domain_error
from orders import states as order_states
from orders.models import Order
from orders.services import order_summaries_in_statuses

from . import offline, services
from .routes import READERS, STAFF, bp

ORDER_NUMBER = re.compile(r"^PK\d{6}-\d{6}$", re.IGNORECASE)
SYNC_BATCH = 100  # sales per sync request, at most
SW_FILE = Path(__file__).parent / "static_sw" / "pos-sw.js"


class ResolveForm(OnceForm):
    counted = IntegerField(_l("Units of this lot counted in the gerai"),
                           validators=[InputRequired(), NumberRange(min=0, max=services.MAX_QUANTITY)])
    expected = IntegerField(validators=[Optional()], widget=HiddenInput())  # what the page showed: compare-and-set
    note = StringField(_l("What was found"), validators=[DataRequired(), Length(min=3, max=500)])


def counter_context() -> dict:
    """What the POS page shows besides the cart: the kasir's token for sales made offline, the
    pay-at-gerai orders waiting to be collected, and every open online order (pay at the gerai or paid
    through Midtrans, not yet handed over) an offline sale may have taken goods of, flagged."""
    waiting = order_summaries_in_statuses(order_states.UNPAID_HOLDING[order_states.PAY_AT_GERAI],
                                          Order.payment_method == order_states.PAY_AT_GERAI, limit=20,
                                          newest_first=False)
    to_check = offline.open_orders_to_check()
    listed = {o.id for o in waiting}
    return {"kasir_token": offline.kasir_token(current_user), "gerai_orders": waiting,
            "orders_to_check": [o for o in to_check if o.id not in listed],
            "flagged_orders": {o.id for o in to_check}}


def order_by_number(text: str) -> Order | None:
    text = (text or "").strip().upper()
    if not ORDER_NUMBER.match(text):
        return None
    return db.session.scalar(select(Order).where(Order.number == text))


@bp.get("/kasir/cari")
@roles_required(*STAFF)
def pos_search():
    """Lots for sale matching what the kasir types (product or member name, or a code): an HTML fragment."""
    query = request.args.get("q", "").strip()[:100]
    return render_template("consignment/_pos_found.html", found=services.lots_for_sale_search(query), query=query)


@bp.get("/kasir/luring")
@roles_required(*STAFF)
def pos_shell():
    """The POS as the service worker keeps it: no cart of the server's, it sells from the device's snapshot."""
    from .forms import CheckoutForm

    return render_template("consignment/pos.html", shell=True, lines=[], total=0, form=CheckoutForm(), query="",
                           found=[], gerai_orders=[], orders_to_check=[], flagged_orders=set(), kasir_token="")


@bp.get("/kasir/stok.json")
@roles_required(*STAFF)
def pos_snapshot():
    """The sellable lots for the phone, and a fresh CSRF token for the sync (`?hanya=token`: the token alone)."""
    if request.args.get("hanya") == "token":
        response = jsonify({"csrf": generate_csrf()})
    else:
        response = jsonify({**offline.sellable_snapshot(), "csrf": generate_csrf()})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/kasir/sw.js")
@roles_required(*STAFF)
def pos_service_worker():
    response = make_response(SW_FILE.read_text(encoding="utf-8"))
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    response.headers["Service-Worker-Allowed"] = url_for("consignment.pos")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/kasir/manifest.webmanifest")
@roles_required(*STAFF)
def pos_manifest():
    from marketplace import app_icon
    from marketplace.cooperative import current_cooperative

    coop = current_cooperative()
    body = app_icon.manifest(_("Cashier"), lambda size: url_for("core.app_icon", size=size))
    body.update({"name": f"{_('Cashier')} · {coop.name if coop else 'Pasar Koperasi'}", "id": url_for("consignment.pos"),
                 "start_url": url_for("consignment.pos"), "scope": url_for("consignment.pos"),
                 "orientation": "portrait"})
    response = make_response(json.dumps(body, ensure_ascii=False))
    response.headers["Content-Type"] = "application/manifest+json"
    return response


def _line(raw) -> offline.OfflineLine:
    if not isinstance(raw, dict):
        raise DomainError(_("This sale is damaged."))
    quantity = raw.get("quantity")
    return offline.OfflineLine(code=str(raw.get("code", ""))[:16], quantity=quantity if isinstance(quantity, int) else 0)


def _sync_one(raw) -> dict:
    uuid = str(raw.get("uuid", ""))[:64] if isinstance(raw, dict) else ""
    try:
        if not isinstance(raw, dict) or not isinstance(raw.get("lines"), list):
            raise DomainError(_("This sale is damaged."))
        cash = raw.get("cash_received")
        result = offline.sync_offline_sale(uuid, str(raw.get("token", "")), offline.parse_sold_at(raw.get("sold_at")),
                                           [_line(line) for line in raw["lines"]],
                                           cash if isinstance(cash, int) else None, synced_by=current_user)
    except DomainError as exc:
        lines = raw.get("lines") if isinstance(raw, dict) and isinstance(raw.get("lines"), list) else []
        offline.record_refused(current_user, uuid, exc.message,
                               raw.get("sold_at", "") if isinstance(raw, dict) else "", lines)
        return {"uuid": uuid, "status": "refused", "message": exc.message}
    return {"uuid": uuid, **result}


@bp.post("/kasir/sinkron")
@roles_required(*STAFF)
def pos_sync():
    """Sales queued on the device, in order: each recorded exactly once (see consignment.offline). The
    answer lists every sale's result in the order sent; a sale sent again gets the same result."""
    payload = request.get_json(silent=True)
    sales = payload.get("sales") if isinstance(payload, dict) else None
    if not isinstance(sales, list) or len(sales) > SYNC_BATCH:
        return jsonify({"error": _("Send the queued sales as a list of at most %(n)d.", n=SYNC_BATCH)}), 400
    return jsonify({"results": [_sync_one(raw) for raw in sales]})


def _discrepancies_page(form: ResolveForm, status: int = 200):
    rows = offline.open_discrepancies(200)
    return render_template("consignment/discrepancies.html", rows=rows, form=form, new_once_key=new_key,
                           shelves=offline.shelf_expectations(d.lot_id for d in rows),
                           orders_by_lot=offline.open_orders_by_lot(d.lot_id for d in rows)), status


@bp.get("/selisih")
@roles_required(*READERS)
def discrepancies():
    return _discrepancies_page(ResolveForm())


@bp.post("/selisih/<int:discrepancy_id>")
@roles_required(ROLE_PENGURUS)
def discrepancy_resolve(discrepancy_id: int):
    form = ResolveForm()
    if form.validate_on_submit():
        try:
            found = offline.resolve_discrepancy(current_user, discrepancy_id, form.note.data, counted=form.counted.data,
                                                expected=form.expected.data, once_key=form.once.data)
        except DomainError as exc:
            show_domain_error(None, exc)
        else:
            flash(_("Lot %(code)s counted: %(n)d in the gerai. The ledger now says the same.", code=found.lot.code,
                    n=form.counted.data), "success")
            return redirect(url_for("consignment.discrepancies"))
    else:
        for name in ("counted", "note"):
            if form.errors.get(name):
                flash(f"{form[name].label.text}: {form.errors[name][0]}", "error")
    return _discrepancies_page(form, 422)



@bp.app_template_global()
def open_stock_discrepancies() -> int:
    """For the dashboard: how many offline sales left a lot below zero, not yet resolved."""
    return offline.count_open_discrepancies()
