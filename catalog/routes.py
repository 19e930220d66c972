"""Catalog management routes (/kelola): members manage their products, pengurus manages all."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from marketplace.i18n import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace import pending_photos
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.forms import select_choices
from marketplace.models import ROLE_MEMBER, ROLE_PENGAWAS, ROLE_PENGURUS, Member
from marketplace.security import roles_required
from marketplace.views import csv_download, show_domain_error

from . import bulk_import, services
from .forms import CategoryForm, ImportConfirmForm, ImportContinueForm, ImportUploadForm, ProductForm
from .models import MAX_PHOTOS, Product

bp = Blueprint("catalog", __name__, url_prefix="/kelola", template_folder="templates")
PAGE_SIZE = 50


def _uploads() -> list[services.Upload]:
    return [services.Upload(f.filename or "foto", f.read()) for f in request.files.getlist("photos") if f and f.filename]


def _keep_photos(form: ProductForm, uploads: list[services.Upload], kept, existing: int):
    """After a failed POST, keep the chosen photos for the next submit."""
    return pending_photos.keep_uploads([(u.filename, u.data) for u in uploads], kept, current_user.id,
                                       form.photos, MAX_PHOTOS - existing)


def _product_form(obj=None) -> ProductForm:
    form = ProductForm(obj=obj)
    form.category_id.choices = select_choices([(None, _("— none —"))]
                                              + [(c.id, c.name) for c in services.list_categories()])
    return _member_choice(form)


def _member_choice(form):
    """Pengurus choose whose products these are; a member's own form has no such field."""
    if current_user.has_role(ROLE_PENGURUS):
        members = db.session.execute(select(Member.id, Member.business_name).order_by(Member.business_name)).all()
        form.member_id.choices = select_choices([(None, _("— choose —"))] + [(m.id, m.business_name) for m in members])
    else:
        del form.member_id
    return form


def _data(form: ProductForm) -> services.ProductData:
    return services.ProductData(name=form.name.data or "", price=form.price.amount, unit=form.unit.data or "",
                                description=form.description.data or "", category_id=form.category_id.data,
                                status=form.status.data, sku=form.sku.data or None)


def _managed_product(product_id: int) -> Product:
    product = db.session.get(Product, product_id) or abort(404)
    if not services.can_manage_product(current_user, product):
        abort(403)
    return product


@bp.get("/produk")
@roles_required(ROLE_MEMBER, ROLE_PENGURUS, ROLE_PENGAWAS)
def product_list():
    page = max(request.args.get("page", 1, type=int), 1)
    stmt = select(Product).options(selectinload(Product.photos), selectinload(Product.member),
                                   selectinload(Product.category))
    # A member sees their own products; pengurus and pengawas see all, or their own business's with ?saya=1.
    own_only = not current_user.has_role(ROLE_PENGURUS, ROLE_PENGAWAS) or (
        request.args.get("saya") == "1" and current_user.member is not None)
    if own_only:
        member_id = current_user.member.id if current_user.member else -1
        stmt = stmt.where(Product.member_id == member_id)
    # One more than the page says whether there is a next page, without counting the whole catalogue.
    products = db.session.scalars(stmt.order_by(Product.updated_at.desc(), Product.id.desc())
                                  .limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).all()
    return render_template("catalog/product_list.html", products=products[:PAGE_SIZE], page=page,
                           has_next=len(products) > PAGE_SIZE, own_only=own_only)


@bp.route("/produk/baru", methods=["GET", "POST"])
@roles_required(ROLE_MEMBER, ROLE_PENGURUS)
def product_new():
    form = _product_form()
    uploads, kept = _uploads(), pending_photos.from_form(current_user.id)
    ask_same_name = bool(form.same_name_ok.data)
    if form.validate_on_submit():
        member_id = form.member_id.data if "member_id" in form else None
        try:
            product = services.create_product(current_user, _data(form), uploads, member_id=member_id, kept=kept,
                                              same_name_ok=form.same_name_ok.data)
        except DomainError as exc:
            ask_same_name = ask_same_name or isinstance(exc, services.SameNameExists)
            show_domain_error(form, exc)
        else:
            flash(_("Product “%(name)s” was saved.", name=product.name), "success")
            return redirect(url_for("catalog.product_edit", product_id=product.id))
    kept = _keep_photos(form, uploads, kept, 0)
    return render_template("catalog/product_form.html", form=form, product=None, kept=kept,
                           ask_same_name=ask_same_name), 200 if not form.errors else 422


@bp.route("/produk/<int:product_id>/ubah", methods=["GET", "POST"])
@roles_required(ROLE_MEMBER, ROLE_PENGURUS)
def product_edit(product_id: int):
    product = _managed_product(product_id)
    form = _product_form(obj=product)
    if request.method == "GET" and "member_id" in form:
        form.member_id.data = product.member_id
    uploads, kept = _uploads(), pending_photos.from_form(current_user.id)
    if form.validate_on_submit():
        try:
            services.update_product(current_user, product, _data(form), uploads, kept=kept)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("catalog.product_edit", product_id=product.id))
    from consignment.services import format_percent, member_share_per_unit

    kept = _keep_photos(form, uploads, kept, len(product.photos))
    rate, share = member_share_per_unit(product)
    return render_template("catalog/product_form.html", form=form, product=product, kept=kept,
                           share=share, rate=format_percent(rate)), 200 if not form.errors else 422


@bp.post("/produk/<int:product_id>/status")
@roles_required(ROLE_MEMBER, ROLE_PENGURUS)
def product_status(product_id: int):
    product = _managed_product(product_id)
    try:
        services.change_status(current_user, product, request.form.get("status", ""))
    except DomainError as exc:
        flash(exc.message, "error")
    return redirect(request.referrer or url_for("catalog.product_list"))


@bp.post("/produk/<int:product_id>/foto/<int:photo_id>/geser")
@roles_required(ROLE_MEMBER, ROLE_PENGURUS)
def photo_move(product_id: int, photo_id: int):
    product = _managed_product(product_id)
    try:
        services.move_photo(current_user, product, photo_id, -1 if request.form.get("dir") == "up" else 1)
    except DomainError as exc:
        flash(exc.message, "error")
    return redirect(url_for("catalog.product_edit", product_id=product.id) + "#foto")


@bp.post("/produk/<int:product_id>/foto/<int:photo_id>/hapus")
@roles_required(ROLE_MEMBER, ROLE_PENGURUS)
def photo_delete(product_id: int, photo_id: int):
    product = _managed_product(product_id)
    try:
        services.delete_photo(current_user, product, photo_id)
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash(_("Photo removed."), "success")
    return redirect(url_for("catalog.product_edit", product_id=product.id) + "#foto")


def _render_categories(form: CategoryForm):
    return render_template("catalog/categories.html", form=form, categories=services.list_categories())


@bp.get("/kategori")
@roles_required(ROLE_PENGURUS, ROLE_PENGAWAS)
def categories():
    return _render_categories(CategoryForm())


@bp.post("/kategori")
@roles_required(ROLE_PENGURUS)
def category_create():
    form = CategoryForm()
    if form.validate_on_submit():
        try:
            services.create_category(current_user, form.name.data)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            flash(_("Category added."), "success")
            return redirect(url_for("catalog.categories"))
    return _render_categories(form)


# --- importing products from a spreadsheet (catalog/bulk_import.py) ---------------------------------------

@bp.url_value_preprocessor
def _import_upload_size(endpoint, values):
    # Runs before any before_request function (CSRF reads the form there): the import's upload — a
    # spreadsheet and a ZIP of photos — may be larger than a product form's.
    if endpoint == "catalog.import_upload":
        request.max_content_length = current_app.config["IMPORT_MAX_UPLOAD_MB"] * 1024 * 1024


def _import_form() -> ImportUploadForm:
    return _member_choice(ImportUploadForm())


def _render_import_form(form: ImportUploadForm, status: int = 200):
    return render_template("catalog/import_form.html", form=form, columns=bulk_import.COLUMNS,
                           column_help=bulk_import.column_help(), max_rows=current_app.config["IMPORT_MAX_ROWS"],
                           max_upload_mb=current_app.config["IMPORT_MAX_UPLOAD_MB"],
                           max_photo_mb=current_app.config["MAX_UPLOAD_MB"]), status


@bp.get("/impor")
@roles_required(ROLE_MEMBER, ROLE_PENGURUS)
def import_start():
    return _render_import_form(_import_form())


@bp.post("/impor")
@roles_required(ROLE_MEMBER, ROLE_PENGURUS)
def import_upload():
    form = _import_form()
    if form.validate_on_submit():
        sheet, photos = request.files["sheet"], request.files.get("photos")
        try:
            token = bulk_import.start_import(
                current_user, form.member_id.data if "member_id" in form else None,
                bulk_import.ImportFile(sheet.filename or "", sheet.stream),
                bulk_import.ImportFile(photos.filename, photos.stream) if photos and photos.filename else None)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            return redirect(url_for("catalog.import_preview", token=token))
    return _render_import_form(form, 422)


def _plan_or_start_again(token: str):
    try:
        return bulk_import.load_plan(current_user, token)
    except DomainError as exc:
        flash(exc.message, "error")
        return None


@bp.get("/impor/<token>")
@roles_required(ROLE_MEMBER, ROLE_PENGURUS)
def import_preview(token: str):
    plan = _plan_or_start_again(token)
    if plan is None:
        return redirect(url_for("catalog.import_start"))
    return render_template("catalog/import_preview.html", plan=plan, form=ImportConfirmForm(),
                           continue_form=ImportContinueForm())


@bp.post("/impor/<token>/foto")
@roles_required(ROLE_MEMBER, ROLE_PENGURUS)
def import_continue(token: str):
    """Prepare the next batch of the import's photos (the preview page sends this by itself)."""
    if ImportContinueForm().validate_on_submit():
        try:
            bulk_import.continue_import(current_user, token)
        except DomainError as exc:
            flash(exc.message, "error")
            return redirect(url_for("catalog.import_start"))
    return redirect(url_for("catalog.import_preview", token=token))


@bp.post("/impor/<token>")
@roles_required(ROLE_MEMBER, ROLE_PENGURUS)
def import_confirm(token: str):
    form = ImportConfirmForm()
    if form.validate_on_submit():
        try:
            result = bulk_import.confirm_import(current_user, token, form.once.data)
        except DomainError as exc:
            flash(exc.message, "error")
        else:
            flash(_("Saved: %(created)d new products, %(updated)d updated, %(skipped)d rows with errors skipped.",
                    created=result.created, updated=result.updated, skipped=result.skipped), "success")
            own = current_user.member is not None and current_user.member.id == result.member_id
            return redirect(url_for("catalog.product_list", saya="1" if own else None))
    if bulk_import.import_exists(current_user, token):
        return redirect(url_for("catalog.import_preview", token=token))
    return redirect(url_for("catalog.import_start"))


@bp.get("/impor/templat.csv")
@roles_required(ROLE_MEMBER, ROLE_PENGURUS)
def import_template_csv():
    header, rows = bulk_import.template_rows()
    return csv_download("templat-produk.csv", header, rows)


@bp.get("/impor/templat.xlsx")
@roles_required(ROLE_MEMBER, ROLE_PENGURUS)
def import_template_xlsx():
    return Response(bulk_import.template_xlsx(),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": 'attachment; filename="templat-produk.xlsx"'})
