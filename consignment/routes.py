"""Gerai routes (/gerai): agreements, intake and labels, the POS, sales, returns, reports, member view."""
from __future__ import annotations

from datetime import date, timedelta

import click

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from marketplace.i18n import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from catalog import services as catalog_services
from catalog.models import Product
from marketplace.cooperative import current_cooperative
from marketplace.errors import DomainError, NotFound
from marketplace.extensions import db
from marketplace.forms import select_choices
from marketplace.models import ROLE_KASIR, ROLE_MEMBER, ROLE_PENGAWAS, ROLE_PENGURUS, Member
from marketplace.money import format_rupiah
from marketplace.security import roles_required
from marketplace.text import normalise_phone, whatsapp_link
from marketplace.timeutil import local_today
from marketplace.views import Page, csv_download, page_arg, show_domain_error
from qris import services as qris

from . import daily, reports, services
from .forms import (AdjustmentForm, AgreementForm, CheckoutForm, IntakeForm, ReturnForm, VoidForm,
                    adjustment_reason_labels, payment_method_labels)
from .labels import code128_svg
from .models import ConsignmentAgreement, ConsignmentLot, ReturnSlip
from .receipt_text import receipt_text

bp = Blueprint("consignment", __name__, url_prefix="/gerai", template_folder="templates", cli_group=None)

STAFF = (ROLE_KASIR, ROLE_PENGURUS)
READERS = (ROLE_KASIR, ROLE_PENGURUS, ROLE_PENGAWAS)
BOARD = (ROLE_PENGURUS, ROLE_PENGAWAS)
LOTS_PER_PAGE = 50
MEMBERS_PER_PAGE = 25
GROUPS_PER_PAGE = 100


@bp.app_context_processor
def labels():
    return {"payment_labels": payment_method_labels(), "code128_svg": code128_svg,
            "percent": services.format_percent}


def _member_choices(blank: str):
    rows = db.session.execute(select(Member.id, Member.business_name).where(Member.active.is_(True))
                              .order_by(Member.business_name)).all()
    return select_choices([(None, blank)] + [(m.id, m.business_name) for m in rows])


def _lot_or_404(code: str) -> ConsignmentLot:
    return services.find_lot(code) or abort(404)


def _sale_or_404(sale_id: int):
    try:
        return services.get_sale(sale_id)
    except NotFound:
        abort(404)


@bp.get("/")
@roles_required(*READERS)
def home():
    only = request.args.get("stok") == "1"
    page = Page.of(lambda limit, offset: services.lots_overview(only_in_stock=only, limit=limit, offset=offset),
                   page_arg(), LOTS_PER_PAGE)
    return render_template("consignment/home.html", rows=page.items, page=page, only_in_stock=only)


# --- agreements ------------------------------------------------------------------------------------

def _agreement_form() -> AgreementForm:
    form = AgreementForm()
    form.member_id.choices = _member_choices(_("— choose —"))
    form.category_id.choices = select_choices([(None, _("— every category —"))]
                                              + [(c.id, c.name) for c in catalog_services.list_categories()])
    return form


def _render_agreements(form: AgreementForm, status: int = 200):
    rows = db.session.scalars(select(ConsignmentAgreement).order_by(ConsignmentAgreement.member_id,
                                                                    ConsignmentAgreement.valid_from.desc())).all()
    return render_template("consignment/agreements.html", form=form, agreements=rows), status


@bp.get("/perjanjian")
@roles_required(*BOARD)
def agreements():
    form = _agreement_form()
    if not form.valid_from.data:
        form.valid_from.data = local_today()
    return _render_agreements(form)


@bp.post("/perjanjian")
@roles_required(ROLE_PENGURUS)
def agreement_create():
    form = _agreement_form()
    if form.validate_on_submit():
        try:
            services.create_agreement(current_user, member_id=form.member_id.data,
                                      commission_bp=services.parse_percent(form.commission.data),
                                      valid_from=form.valid_from.data, valid_to=form.valid_to.data,
                                      category_id=form.category_id.data, note=form.note.data or "")
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            flash(_("Agreement saved."), "success")
            return redirect(url_for("consignment.agreements"))
    return _render_agreements(form, 422)


# --- intake ----------------------------------------------------------------------------------------

def _chosen_product(product_id: int | None) -> Product | None:
    if not product_id:
        return None
    return db.session.scalar(select(Product).where(Product.id == product_id)
                             .options(selectinload(Product.member), selectinload(Product.photos)))


@bp.route("/terima", methods=["GET", "POST"])
@roles_required(*STAFF)
def intake():
    form = IntakeForm()
    form.new_member_id.choices = _member_choices(_("— choose —"))
    if request.method == "GET" and request.args.get("produk", type=int):
        form.product_id.data = request.args.get("produk", type=int)
    ask_same_name = bool(form.new_same_name_ok.data)
    if form.validate_on_submit():
        try:
            new_product = None
            if form.product_id.data is None:
                new_product = services.NewProduct(member_id=form.new_member_id.data, name=form.new_name.data or "",
                                                  unit=form.new_unit.data or "pcs",
                                                  same_name_ok=form.new_same_name_ok.data)
            lot = services.receive_lot(current_user, product_id=form.product_id.data, quantity=form.quantity.data,
                                       unit_price=form.unit_price.amount, expiry_date=form.expiry_date.data,
                                       note=form.note.data or "", new_product=new_product, once_key=form.once.data)
        except DomainError as exc:
            if exc.field == "member_id":
                exc.field = "new_member_id"
            if isinstance(exc, catalog_services.SameNameExists):
                exc.field, ask_same_name = "new_name", True
            show_domain_error(form, exc)
        else:
            flash(_("Received %(n)d × %(product)s as lot %(code)s.", n=lot.quantity_received,
                    product=lot.product.name, code=lot.code), "success")
            return redirect(url_for("consignment.lot_detail", code=lot.code))
    status = 422 if form.errors else 200
    query = request.args.get("cari", "").strip()
    return render_template("consignment/intake.html", form=form, query=query,
                           found=services.find_products(query) if query else [],
                           chosen=_chosen_product(form.product_id.data), ask_same_name=ask_same_name), status


@bp.get("/terima/produk")
@roles_required(*STAFF)
def intake_product_search():
    """The intake's product picker as you type: an HTML fragment of the products found (member, price, photo)."""
    query = request.args.get("q", "").strip()
    return render_template("consignment/_product_picks.html", found=services.find_products(query), query=query)


def _render_lot(lot: ConsignmentLot, form: AdjustmentForm, status: int = 200):
    return render_template("consignment/lot.html", lot=lot, on_hand=services.on_hand(lot.id),
                           movements=services.lot_movements(lot.id), form=form,
                           discrepancies=counter_routes.offline.lot_discrepancies(lot.id),
                           reason_labels=adjustment_reason_labels()), status


@bp.get("/lot/<code>")
@roles_required(*READERS)
def lot_detail(code: str):
    return _render_lot(_lot_or_404(code), AdjustmentForm())


@bp.post("/lot/<code>")
@roles_required(*STAFF)
def lot_adjust(code: str):
    lot = _lot_or_404(code)
    form = AdjustmentForm()
    if form.validate_on_submit():
        try:
            services.adjust_stock(current_user, lot.id, form.quantity.data, form.reason.data, form.note.data,
                                  once_key=form.once.data)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            flash(_("Stock adjusted."), "success")
            return redirect(url_for("consignment.lot_detail", code=lot.code))
    return _render_lot(lot, form, 422)


@bp.get("/lot/<code>/label")
@roles_required(*READERS)
def labels_sheet(code: str):
    lot = _lot_or_404(code)
    count = min(max(request.args.get("jumlah", lot.quantity_received, type=int) or 1, 1), 500)
    return render_template("consignment/labels.html", lot=lot, count=count)


def _intake_text(lot: ConsignmentLot) -> str:
    lines = [_("Consignment receipt %(code)s", code=lot.code),
             f"{lot.product.name}: {lot.quantity_received} × {format_rupiah(lot.unit_price)}",
             _("Commission %(rate)s", rate=services.format_percent(lot.commission_bp)),
             _("Received by %(name)s", name=lot.received_by.name)]
    if lot.expiry_date:
        lines.append(_("Best before %(date)s", date=lot.expiry_date.isoformat()))
    return "\n".join(lines)


@bp.get("/lot/<code>/tanda-terima")
@roles_required(*READERS)
def intake_receipt(code: str):
    lot = _lot_or_404(code)
    text = _intake_text(lot)
    whatsapp = whatsapp_link(lot.member.whatsapp, text)
    return render_template("consignment/intake_receipt.html", lot=lot, whatsapp=whatsapp)


# --- POS -------------------------------------------------------------------------------------------

def _render_pos(form: CheckoutForm, query: str = "", status: int = 200):
    lines = services.cart_lines(current_user)
    total = sum(line.total for line in lines)
    if request.method == "GET" or form.expected_total.data is None:
        form.expected_total.data = str(total)
    found = services.lots_for_sale_search(query) if query else []
    return render_template("consignment/pos.html", lines=lines, total=total, form=form, query=query,
                           found=found, **counter_routes.counter_context()), status


@bp.get("/kasir")
@roles_required(*STAFF)
def pos():
    return _render_pos(CheckoutForm(), request.args.get("cari", "").strip())


@bp.post("/kasir/tambah")
@roles_required(*STAFF)
def pos_add():
    code = request.form.get("kode", "").strip()
    lot = services.find_lot(code) if code else None
    if lot is None and request.form.get("lot_id", type=int):
        lot = db.session.get(ConsignmentLot, request.form.get("lot_id", type=int))
    if lot is None and (order := counter_routes.order_by_number(code)) is not None:
        return redirect(url_for("orders.staff_order", order_id=order.id))  # a pay-at-gerai order to collect
    if lot is None:
        if code:
            # Not a label code: treat what was typed as a product name search.
            return redirect(url_for("consignment.pos", cari=code))
        flash(_("Scan a label or type a code."), "error")
        return redirect(url_for("consignment.pos"))
    try:
        in_cart = services.add_to_cart(current_user, lot, max(request.form.get("jumlah", 1, type=int) or 1, 1))
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("consignment.pos"))
    available = services.on_hand(lot.id)
    if in_cart > available:
        flash(_("Only %(n)d of %(product)s on hand.", n=available, product=lot.product.name), "error")
    return redirect(url_for("consignment.pos"))


@bp.post("/kasir/ubah")
@roles_required(*STAFF)
def pos_update():
    try:
        services.set_cart_quantity(current_user, request.form.get("lot_id", 0, type=int) or 0,
                                   request.form.get("jumlah", 0, type=int) or 0)
    except DomainError as exc:
        flash(exc.message, "error")
    return redirect(url_for("consignment.pos"))


@bp.post("/kasir/kosongkan")
@roles_required(*STAFF)
def pos_clear():
    services.clear_cart(current_user)
    return redirect(url_for("consignment.pos"))


def _expected_total(form: CheckoutForm) -> int | None:
    return int(form.expected_total.data) if (form.expected_total.data or "").isdigit() else None


@bp.post("/kasir/bayar")
@roles_required(*STAFF)
def pos_checkout():
    form = CheckoutForm()
    waiting = qris.pending_for(current_user)
    if waiting is not None:  # its goods are held: finish or cancel that QR before selling again
        flash(_("A QRIS payment is still waiting: finish or cancel it first."), "error")
        return redirect(url_for("qris.show", payment_id=waiting.id))
    if form.validate_on_submit():
        try:
            if form.payment_method.data == "qris" and qris.dynamic_mode():
                payment = qris.start_payment(current_user, expected_total=_expected_total(form),
                                             once_key=form.once.data)
                return redirect(url_for("qris.show", payment_id=payment.id))
            sale = services.checkout_cart(
                current_user, form.payment_method.data, cash_received=form.cash_received.amount,
                payment_reference=form.payment_reference.data or "",
                expected_total=_expected_total(form), once_key=form.once.data)
        except DomainError as exc:
            show_domain_error(form, exc)
            form.expected_total.data = None  # show the current total; the kasir checks it and sends again
        else:
            return redirect(url_for("consignment.receipt", sale_id=sale.id))
    return _render_pos(form, status=422)


@bp.get("/penjualan/<int:sale_id>/struk")
@roles_required(*READERS)
def receipt(sale_id: int):
    sale = _sale_or_404(sale_id)
    number = normalise_phone(request.args.get("wa", ""))[:20]
    coop = current_cooperative()
    text = receipt_text(sale, coop.name if coop else "")
    wrong_number = bool(request.args.get("wa")) and len(number) < 10
    link = whatsapp_link("" if wrong_number else number, text)
    return render_template("consignment/receipt.html", sale=sale, whatsapp=link, wa_number=request.args.get("wa", ""),
                           wrong_number=wrong_number)


@bp.get("/penjualan/<int:sale_id>")
@roles_required(*READERS)
def sale_detail(sale_id: int):
    return render_template("consignment/sale.html", sale=_sale_or_404(sale_id), form=VoidForm())


@bp.post("/penjualan/<int:sale_id>")
@roles_required(ROLE_PENGURUS)
def sale_void(sale_id: int):
    sale = _sale_or_404(sale_id)
    form = VoidForm()
    if form.validate_on_submit():
        try:
            services.void_sale(current_user, sale.id, form.reason.data, once_key=form.once.data)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            flash(_("Sale %(number)s voided; its stock is back on the shelf.", number=sale.number), "success")
            return redirect(url_for("consignment.sale_detail", sale_id=sale.id))
    return render_template("consignment/sale.html", sale=sale, form=form), 422


@bp.get("/penjualan")
@roles_required(*READERS)
def sales():
    return render_template("consignment/sales.html", sales=services.recent_sales(100))


# --- returns ---------------------------------------------------------------------------------------

def _render_returns(member: Member | None, form: ReturnForm, status: int = 200):
    rows = services.lots_overview(member.id, only_in_stock=True) if member else []
    members = db.session.scalars(select(Member).order_by(Member.business_name)).all()
    return render_template("consignment/returns.html", member=member, members=members, rows=rows,
                           form=form), status


@bp.get("/retur")
@roles_required(*STAFF)
def returns():
    member_id = request.args.get("anggota", type=int)
    return _render_returns(db.session.get(Member, member_id) if member_id else None, ReturnForm())


@bp.post("/retur")
@roles_required(*STAFF)
def return_create():
    member = db.session.get(Member, request.form.get("anggota", 0, type=int) or 0) or abort(404)
    form = ReturnForm()
    if form.validate_on_submit():
        items = [services.LineRequest(int(name[4:]), request.form.get(name, 0, type=int) or 0)
                 for name in request.form if name.startswith("qty-") and name[4:].isdigit()]
        try:
            slip = services.return_to_member(current_user, member.id, [i for i in items if i.quantity > 0],
                                             form.note.data or "", once_key=form.once.data)
        except DomainError as exc:
            flash(exc.message, "error")
        else:
            flash(_("Return slip %(number)s recorded.", number=slip.number), "success")
            return redirect(url_for("consignment.return_slip", slip_id=slip.id))
    return _render_returns(member, form, 422)


@bp.get("/retur/<int:slip_id>")
@roles_required(*READERS)
def return_slip(slip_id: int):
    slip = db.session.get(ReturnSlip, slip_id) or abort(404)
    return render_template("consignment/return_slip.html", slip=slip)


# --- reports ---------------------------------------------------------------------------------------

def _filter_arg(name: str) -> int | None:
    return request.args.get(name, type=int) or None


MEMBER_MATCHES = 20


def _report_filters():
    """The member and category filters of the reports, and what was asked for. A member is asked for by id
    (`anggota`, from links and CSV downloads) or by a part of the business name typed in the form
    (`cari_anggota`): one match (or an exact one) filters by it, several are offered as links. The page never
    lists every member (a cooperative of 1,250 members sent 60 KB of <option>s with every report page)."""
    member_id, typed = _filter_arg("anggota"), request.args.get("cari_anggota", "").strip()[:100]
    matches: list = []
    if typed and not member_id:
        exact = reports.members_named(typed, 2, exact=True)
        matches = exact if len(exact) == 1 else reports.members_named(typed, MEMBER_MATCHES + 1)
        if len(matches) == 1:
            member_id, matches = matches[0].id, []
    chosen = db.session.get(Member, member_id) if member_id else None
    return {"member_id": member_id, "member_name": chosen.business_name if chosen else typed,
            "member_matches": matches[:MEMBER_MATCHES], "more_member_matches": len(matches) > MEMBER_MATCHES,
            "member_not_found": bool(typed and not chosen and not matches),
            "categories": catalog_services.list_categories(), "category_id": _filter_arg("kategori")}


@bp.get("/laporan/umur")
@roles_required(*READERS)
def aging():
    days = min(max(request.args.get("hari", 30, type=int) or 30, 0), 3650)
    filters = _report_filters()
    member_id = filters["member_id"]
    if request.args.get("format") == "csv":
        return csv_download(f"umur-{days}.csv", ["member", "lot", "product", "received_at", "best_before",
                                                 "on_hand", "unit_price_idr"], services.aging_export(days, member_id))
    page = Page.of(lambda limit, offset: services.aging_lots(days, member_id=member_id, limit=limit, offset=offset),
                   page_arg(), LOTS_PER_PAGE)
    return render_template("consignment/aging.html", report=services.by_member(page.items), days=days, page=page,
                           **filters)


@bp.get("/laporan/stok")
@roles_required(*BOARD)
def stock_report():
    filters = _report_filters()
    if request.args.get("format") == "csv":
        return csv_download("stok.csv", ["member", "category", "units_on_hand", "value_idr"],
                            reports.stock_export(filters["member_id"], filters["category_id"]))
    if filters["member_id"]:
        rows, has_next = reports.stock_by_member_category(filters["member_id"], filters["category_id"]), False
    else:
        rows, has_next = reports.stock_page(page_arg(), MEMBERS_PER_PAGE, filters["category_id"])
    page = Page(page_arg(), MEMBERS_PER_PAGE, rows, has_next)
    return render_template("consignment/report_stock.html", rows=rows, page=page, **filters)


def _date_arg(name: str, default: date) -> date:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return default


@bp.get("/laporan/penjualan")
@roles_required(*BOARD)
def sales_report():
    today = local_today()
    start = _date_arg("dari", today - timedelta(days=29))
    end = _date_arg("sampai", today)
    if end < start:
        start, end = end, start
    group = request.args.get("per", "day")
    if group not in reports.GROUPINGS:
        group = "day"
    filters = _report_filters()
    scope = {"member_id": filters["member_id"], "category_id": filters["category_id"]}
    if request.args.get("format") == "csv":
        return csv_download(f"penjualan-{start}-{end}-{group}.csv",
                            ["key", "label", "units", "gross_idr", "commission_idr", "member_share_idr"],
                            reports.sales_export(start, end, group, **scope), convert=reports.sales_csv_cells)
    daily = reports.sales_summary(start, end, "day", **scope)  # the chart and the totals; the table when per day
    if group == "day":
        page = Page(1, len(daily), daily, False)
    else:
        page = Page.of(lambda limit, offset: reports.sales_summary(start, end, group, limit=limit, offset=offset,
                                                                   **scope), page_arg(), GROUPS_PER_PAGE)
    return render_template("consignment/report_sales.html", rows=page.items, daily=daily, page=page, start=start,
                           end=end, group=group, chart=reports.daily_chart_svg(daily, start, end), **filters)


# --- the member's own view -------------------------------------------------------------------------

@bp.get("/saya")
@roles_required(ROLE_MEMBER)
def my_consignment():
    member = current_user.member or abort(404)
    page = Page.of(lambda limit, offset: services.lots_overview(member.id, limit=limit, offset=offset),
                   page_arg(), LOTS_PER_PAGE)
    return render_template("consignment/mine.html", member=member, rows=page.items, page=page,
                           sales=services.member_sales(member.id, limit=50))


# --- command line ----------------------------------------------------------------------------------

@bp.cli.command("check-ledger")
@click.option("--repair", is_flag=True, help="Set every lot's balance from its movements and rebuild the daily "
                                            "sales figures from the sale lines (after a bulk load).")
def check_ledger_command(repair):
    """Prove every lot's balance (on_hand) equals the SUM of its movements, and the daily sales figures the SUM
    of the sale lines; exit 1 listing whatever differs."""
    if repair:
        click.echo(f"Balances set from the ledger: {services.rebuild_balances()} lots changed.")
        click.echo(f"Daily sales figures rebuilt from the sale lines: {daily.rebuild()} rows.")
    mismatches = services.ledger_mismatches()
    for m in mismatches:
        click.echo(f"lot {m.code} (id {m.lot_id}): balance {m.balance}, ledger {m.ledger}", err=True)
    daily_mismatches = daily.mismatches()
    for d in daily_mismatches:
        units, gross, commission, lines = d.difference
        click.echo(f"daily sales {d.day} member {d.member_id} product {d.product_id}: differs from the sale lines "
                   f"by {units:+d} units, {gross:+d} gross, {commission:+d} commission, {lines:+d} lines", err=True)
    if mismatches or daily_mismatches:
        raise SystemExit(1)
    click.echo("Ledger OK: every lot's balance equals the sum of its movements, and the daily sales figures "
               "equal the sale lines.")


from . import counter_routes  # noqa: E402 - the phone counter's routes register on `bp` (they import it)
