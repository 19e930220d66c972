"""Gerai routes (/gerai): agreements, intake and labels, the POS, sales, returns, reports, member view."""
from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from catalog import services as catalog_services
from catalog.models import Product
from marketplace.errors import DomainError, NotFound
from marketplace.extensions import db
from marketplace.forms import select_choices
from marketplace.models import ROLE_KASIR, ROLE_MEMBER, ROLE_PENGAWAS, ROLE_PENGURUS, Member
from marketplace.money import format_rupiah
from marketplace.security import roles_required
from marketplace.text import whatsapp_link
from marketplace.timeutil import local_today
from marketplace.views import csv_download, show_domain_error

from . import reports, services
from .forms import (AdjustmentForm, AgreementForm, CheckoutForm, IntakeForm, VoidForm, adjustment_reason_labels,
                    payment_method_labels)
from .labels import code128_svg
from .models import ConsignmentAgreement, ConsignmentLot, ReturnSlip

bp = Blueprint("consignment", __name__, url_prefix="/gerai", template_folder="templates")

STAFF = (ROLE_KASIR, ROLE_PENGURUS)
READERS = (ROLE_KASIR, ROLE_PENGURUS, ROLE_PENGAWAS)
BOARD = (ROLE_PENGURUS, ROLE_PENGAWAS)


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
    return render_template("consignment/home.html", rows=services.lots_overview(only_in_stock=only, limit=100),
                           only_in_stock=only)


# --- agreements ------------------------------------------------------------------------------------

@bp.route("/perjanjian", methods=["GET", "POST"])
@roles_required(*BOARD)
def agreements():
    form = AgreementForm()
    form.member_id.choices = _member_choices(_("— choose —"))
    form.category_id.choices = select_choices([(None, _("— every category —"))]
                                              + [(c.id, c.name) for c in catalog_services.list_categories()])
    if request.method == "POST":
        if not current_user.has_role(ROLE_PENGURUS):
            abort(403)
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
    elif not form.valid_from.data:
        form.valid_from.data = local_today()
    rows = db.session.scalars(select(ConsignmentAgreement).order_by(ConsignmentAgreement.member_id,
                                                                    ConsignmentAgreement.valid_from.desc())).all()
    return render_template("consignment/agreements.html", form=form, agreements=rows)


# --- intake ----------------------------------------------------------------------------------------

def _product_choices():
    rows = db.session.execute(select(Product.id, Product.name, Member.business_name, Product.price)
                              .join(Member, Member.id == Product.member_id).where(Product.status != "archived")
                              .order_by(Member.business_name, Product.name)).all()
    return select_choices([(None, _("— choose, or register a new product below —"))]
                          + [(r.id, f"{r.business_name} · {r.name} ({format_rupiah(r.price)})") for r in rows])


@bp.route("/terima", methods=["GET", "POST"])
@roles_required(*STAFF)
def intake():
    form = IntakeForm()
    form.product_id.choices = _product_choices()
    form.new_member_id.choices = _member_choices(_("— choose —"))
    if request.method == "GET" and request.args.get("produk", type=int):
        form.product_id.data = request.args.get("produk", type=int)
    if form.validate_on_submit():
        try:
            product_id = form.product_id.data
            if product_id is None:
                if not (form.new_name.data or "").strip():
                    raise DomainError(_("Choose a product, or fill in a new product's name, member and price."),
                                      field="product_id")
                if form.unit_price.amount is None:
                    raise DomainError(_("A new product needs a price."), field="unit_price")
                product_id = catalog_services.quick_product_for_intake(
                    current_user, form.new_member_id.data, form.new_name.data, form.unit_price.amount,
                    form.new_unit.data or "pcs").id
            lot = services.receive_lot(current_user, product_id=product_id, quantity=form.quantity.data,
                                       unit_price=form.unit_price.amount, expiry_date=form.expiry_date.data,
                                       note=form.note.data or "")
        except DomainError as exc:
            if exc.field == "member_id":
                exc.field = "new_member_id"
            show_domain_error(form, exc)
        else:
            flash(_("Received %(n)d × %(product)s as lot %(code)s.", n=lot.quantity_received,
                    product=lot.product.name, code=lot.code), "success")
            return redirect(url_for("consignment.lot_detail", code=lot.code))
    status = 422 if form.errors else 200
    return render_template("consignment/intake.html", form=form), status


@bp.route("/lot/<code>", methods=["GET", "POST"])
@roles_required(*READERS)
def lot_detail(code: str):
    lot = _lot_or_404(code)
    form = AdjustmentForm()
    if request.method == "POST":
        if not current_user.has_role(*STAFF):
            abort(403)
        if form.validate_on_submit():
            try:
                services.adjust_stock(current_user, lot.id, form.quantity.data, form.reason.data, form.note.data)
            except DomainError as exc:
                show_domain_error(form, exc)
            else:
                flash(_("Stock adjusted."), "success")
                return redirect(url_for("consignment.lot_detail", code=lot.code))
    return render_template("consignment/lot.html", lot=lot, on_hand=services.on_hand(lot.id),
                           movements=services.lot_movements(lot.id), form=form,
                           reason_labels=adjustment_reason_labels())


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

def _cart() -> list[dict]:
    return session.setdefault("pos_cart", [])


def _save_cart(cart: list[dict]) -> None:
    session["pos_cart"] = cart
    session.modified = True


def _cart_view(cart: list[dict]):
    lots = {lot.id: lot for lot in db.session.scalars(select(ConsignmentLot).where(
        ConsignmentLot.id.in_([item["lot_id"] for item in cart])))} if cart else {}
    stock = services.on_hand_by_lot(lots)
    lines = [{"lot": lots[i["lot_id"]], "qty": i["qty"], "on_hand": stock[i["lot_id"]],
              "total": lots[i["lot_id"]].unit_price * i["qty"]} for i in cart if i["lot_id"] in lots]
    return lines, sum(line["total"] for line in lines)


@bp.get("/kasir")
@roles_required(*STAFF)
def pos():
    lines, total = _cart_view(_cart())
    query = request.args.get("cari", "").strip()
    found = services.lots_for_sale_search(query) if query else []
    return render_template("consignment/pos.html", lines=lines, total=total, form=CheckoutForm(),
                           query=query, found=found)


@bp.post("/kasir/tambah")
@roles_required(*STAFF)
def pos_add():
    code = request.form.get("kode", "").strip()
    lot = services.find_lot(code) if code else None
    if lot is None and request.form.get("lot_id", type=int):
        lot = db.session.get(ConsignmentLot, request.form.get("lot_id", type=int))
    if lot is None:
        if code:
            # Not a label code: treat what was typed as a product name search.
            return redirect(url_for("consignment.pos", cari=code))
        flash(_("Scan a label or type a code."), "error")
        return redirect(url_for("consignment.pos"))
    qty = max(request.form.get("jumlah", 1, type=int) or 1, 1)
    cart = _cart()
    for item in cart:
        if item["lot_id"] == lot.id:
            item["qty"] += qty
            break
    else:
        cart.append({"lot_id": lot.id, "qty": qty})
    _save_cart(cart)
    available = services.on_hand(lot.id)
    wanted = next(i["qty"] for i in cart if i["lot_id"] == lot.id)
    if wanted > available:
        flash(_("Only %(n)d of %(product)s on hand.", n=available, product=lot.product.name), "error")
    return redirect(url_for("consignment.pos"))


@bp.post("/kasir/ubah")
@roles_required(*STAFF)
def pos_update():
    lot_id = request.form.get("lot_id", type=int)
    qty = request.form.get("jumlah", type=int)
    cart = [item for item in _cart() if not (item["lot_id"] == lot_id and (qty or 0) <= 0)]
    for item in cart:
        if item["lot_id"] == lot_id and qty:
            item["qty"] = qty
    _save_cart(cart)
    return redirect(url_for("consignment.pos"))


@bp.post("/kasir/kosongkan")
@roles_required(*STAFF)
def pos_clear():
    _save_cart([])
    return redirect(url_for("consignment.pos"))


@bp.post("/kasir/bayar")
@roles_required(*STAFF)
def pos_checkout():
    form = CheckoutForm()
    lines, total = _cart_view(_cart())
    if form.validate_on_submit():
        try:
            sale = services.record_counter_sale(
                current_user, [services.LineRequest(line["lot"].id, line["qty"]) for line in lines],
                form.payment_method.data, cash_received=form.cash_received.amount,
                payment_reference=form.payment_reference.data or "")
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            _save_cart([])
            return redirect(url_for("consignment.receipt", sale_id=sale.id))
    return render_template("consignment/pos.html", lines=lines, total=total, form=form, query="", found=[]), 422


@bp.get("/penjualan/<int:sale_id>/struk")
@roles_required(*READERS)
def receipt(sale_id: int):
    sale = _sale_or_404(sale_id)
    return render_template("consignment/receipt.html", sale=sale)


@bp.route("/penjualan/<int:sale_id>", methods=["GET", "POST"])
@roles_required(*READERS)
def sale_detail(sale_id: int):
    sale = _sale_or_404(sale_id)
    form = VoidForm()
    if request.method == "POST":
        if not current_user.has_role(ROLE_PENGURUS):
            abort(403)
        if form.validate_on_submit():
            try:
                services.void_sale(current_user, sale.id, form.reason.data)
            except DomainError as exc:
                show_domain_error(form, exc)
            else:
                flash(_("Sale %(number)s voided; its stock is back on the shelf.", number=sale.number), "success")
                return redirect(url_for("consignment.sale_detail", sale_id=sale.id))
    return render_template("consignment/sale.html", sale=sale, form=form)


@bp.get("/penjualan")
@roles_required(*READERS)
def sales():
    return render_template("consignment/sales.html", sales=services.recent_sales(100))


# --- returns ---------------------------------------------------------------------------------------

@bp.route("/retur", methods=["GET", "POST"])
@roles_required(*STAFF)
def returns():
    member_id = request.values.get("anggota", type=int)
    member = db.session.get(Member, member_id) if member_id else None
    rows = services.lots_overview(member.id, only_in_stock=True) if member else []
    if request.method == "POST" and member is not None:
        items = [services.LineRequest(row.lot.id, request.form.get(f"qty-{row.lot.id}", 0, type=int) or 0)
                 for row in rows]
        try:
            slip = services.return_to_member(current_user, member.id, [i for i in items if i.quantity > 0],
                                             request.form.get("note", ""))
        except DomainError as exc:
            flash(exc.message, "error")
        else:
            flash(_("Return slip %(number)s recorded.", number=slip.number), "success")
            return redirect(url_for("consignment.return_slip", slip_id=slip.id))
    members = db.session.scalars(select(Member).order_by(Member.business_name)).all()
    return render_template("consignment/returns.html", member=member, members=members, rows=rows)


@bp.get("/retur/<int:slip_id>")
@roles_required(*READERS)
def return_slip(slip_id: int):
    slip = db.session.get(ReturnSlip, slip_id) or abort(404)
    return render_template("consignment/return_slip.html", slip=slip)


# --- reports ---------------------------------------------------------------------------------------

@bp.get("/laporan/umur")
@roles_required(*READERS)
def aging():
    days = min(max(request.args.get("hari", 30, type=int) or 30, 0), 3650)
    return render_template("consignment/aging.html", report=services.aging_report(days), days=days)


@bp.get("/laporan/stok")
@roles_required(*BOARD)
def stock_report():
    rows = reports.stock_by_member_category()
    if request.args.get("format") == "csv":
        return csv_download("stok.csv", ["member", "category", "units_on_hand", "value_idr"],
                    [(r.member, r.category, r.units, r.value) for r in rows])
    return render_template("consignment/report_stock.html", rows=rows)


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
    rows = reports.sales_summary(start, end, group)
    if request.args.get("format") == "csv":
        return csv_download(f"penjualan-{start}-{end}-{group}.csv",
                    ["key", "label", "units", "gross_idr", "commission_idr", "member_share_idr"],
                    [(r.key, r.label, r.units, r.gross, r.commission, r.gross - r.commission) for r in rows])
    daily = reports.sales_summary(start, end, "day")
    return render_template("consignment/report_sales.html", rows=rows, start=start, end=end, group=group,
                           chart=reports.daily_chart_svg(daily, start, end))


# --- the member's own view -------------------------------------------------------------------------

@bp.get("/saya")
@roles_required(ROLE_MEMBER)
def my_consignment():
    member = current_user.member or abort(404)
    return render_template("consignment/mine.html", member=member,
                           rows=services.lots_overview(member.id, limit=200),
                           sales=services.member_sales(member.id, limit=100))
