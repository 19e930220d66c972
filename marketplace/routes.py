"""Core routes: health, sign-in, language, media files, dashboard, member accounts."""
from __future__ import annotations

import json
from pathlib import Path

from flask import (Blueprint, abort, current_app, flash, make_response, redirect, render_template, request,
                   send_file, send_from_directory, session, url_for)
from marketplace.i18n import gettext as _
from flask_login import current_user, login_user, logout_user
from flask_login.config import COOKIE_NAME
from sqlalchemy import select, text

from . import accounts, pending_photos
from . import app_icon as app_icon_module
from .cooperative import current_cooperative
from .errors import DomainError
from .extensions import db
from .forms import (ChangePasswordForm, CooperativeForm, LoginForm, MemberForm, NewMemberForm, NewPasswordForm,
                    StaffForm, select_choices)
from .models import ROLE_KASIR, ROLE_PENGAWAS, ROLE_PENGURUS, Member, User
from .security import public, roles_required, signed_in
from .text import whatsapp_link
from .views import absolute_url, safe_next, show_domain_error

bp = Blueprint("core", __name__)

PHOTO_MAX_AGE = 365 * 24 * 3600


@bp.get("/healthz")
@public
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # pragma: no cover - needs a broken database
        return {"status": "error", "database": str(exc.__class__.__name__)}, 503
    return {"status": "ok", "database": "ok"}


@bp.get("/foto-tersimpan/<token>")
@signed_in
def pending_photo(token: str):
    """Preview of a photo kept from a failed form, for the user who sent it only."""
    path = pending_photos.preview(token, current_user.id)
    if path is None:
        abort(404)
    response = send_file(path, mimetype="image/webp", max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/favicon.ico", defaults={"size": 32})
@bp.get("/ikon-<int:size>.png")
@public
def app_icon(size: int):
    """The site icon, drawn from the cooperative's initials (see app_icon.py)."""
    if size not in app_icon_module.ICON_SIZES:
        abort(404)
    coop = current_cooperative()
    response = make_response(app_icon_module.icon_png(size, app_icon_module.initials(coop.name if coop else "")))
    response.headers["Content-Type"] = "image/png"
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.get("/manifest.webmanifest")
@public
def manifest():
    coop = current_cooperative()
    body = app_icon_module.manifest(coop.name if coop else "Pasar Koperasi",
                                    lambda size: url_for("core.app_icon", size=size))
    response = make_response(json.dumps(body, ensure_ascii=False))
    response.headers["Content-Type"] = "application/manifest+json"
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/media/photos/<path:name>")
@public
def photo_file(name: str):
    directory = Path(current_app.config["MEDIA_ROOT"]) / "public" / "photos"
    response = send_from_directory(directory, name, max_age=PHOTO_MAX_AGE)
    # Names are content hashes: a file never changes, so browsers and proxies may keep it for a year.
    response.headers["Cache-Control"] = f"public, max-age={PHOTO_MAX_AGE}, immutable"
    return response


@bp.get("/bahasa/<code>")
@public
def set_language(code: str):
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(safe_next(request.args.get("next")) or url_for("storefront.home"))


@bp.route("/masuk", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.identifier.data, form.password.data, request.remote_addr or "")
        except accounts.LoginThrottled as exc:
            flash(exc.message, "error")
            return render_template("auth/login.html", form=form), 429
        if user is None:
            flash(_("Wrong email/phone or password."), "error")
            return render_template("auth/login.html", form=form), 200
        session.clear()  # a fresh session on sign-in
        login_user(user, remember=form.remember.data)
        return redirect(safe_next(request.args.get("next")) or url_for("core.dashboard"))
    return render_template("auth/login.html", form=form)


@bp.post("/keluar")
@signed_in
def logout():
    lang = session.get("lang")
    accounts.sign_out(current_user)
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You are signed out."), "info")
    return redirect(url_for("storefront.home"))


@bp.get("/dasbor")
@signed_in
def dashboard():
    return render_template("dashboard.html")


# --- passwords ---------------------------------------------------------------------------------

@bp.route("/akun/kata-sandi", methods=["GET", "POST"])
@signed_in
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user, form.current_password.data, form.new_password.data,
                                     form.confirm.data)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            # Every other session ended; this device stays signed in (and remembered, if it was).
            login_user(current_user._get_current_object(),
                       remember=current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME) in request.cookies)
            flash(_("Your password was changed."), "success")
            return redirect(url_for("core.dashboard"))
    return render_template("auth/change_password.html", form=form)


@bp.route("/atur-sandi/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str):
    try:
        user = accounts.user_for_reset_token(token)
    except DomainError as exc:
        response = make_response(render_template("auth/reset_invalid.html", message=exc.message), 410)
    else:
        form = NewPasswordForm()
        if form.validate_on_submit():
            try:
                accounts.reset_password(token, form.new_password.data, form.confirm.data)
            except DomainError as exc:
                show_domain_error(form, exc)
            else:
                if current_user.is_authenticated:
                    logout_user()
                flash(_("Your new password is set. Sign in with it."), "success")
                return redirect(url_for("core.login"))
        response = make_response(render_template("auth/reset_password.html", form=form, user=user))
    response.headers["Referrer-Policy"] = "no-referrer"  # the token must not travel to other pages
    response.headers["Cache-Control"] = "no-store"
    return response


# --- staff accounts (pengurus manages, pengawas reads) -------------------------------------------

def _staff_role_choices():
    return select_choices([(ROLE_KASIR, _("Kasir (gerai staff)")), (ROLE_PENGURUS, _("Pengurus (board)")),
                           (ROLE_PENGAWAS, _("Pengawas (supervisor, read-only)"))])


@bp.get("/admin/pengguna")
@roles_required(ROLE_PENGURUS, ROLE_PENGAWAS)
def users():
    return render_template("admin/users.html", users=accounts.staff_users())


@bp.route("/admin/pengguna/baru", methods=["GET", "POST"])
@roles_required(ROLE_PENGURUS)
def user_new():
    form = StaffForm()
    form.role.choices = _staff_role_choices()
    if form.validate_on_submit():
        try:
            user = accounts.create_staff_user(current_user, name=form.name.data, email=form.email.data,
                                              phone=form.phone.data, password=form.password.data,
                                              role=form.role.data)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            flash(_("The account for %(name)s was added.", name=user.name), "success")
            return redirect(url_for("core.users"))
    return render_template("admin/user_form.html", form=form)


@bp.route("/admin/pengguna/<int:user_id>/usaha", methods=["GET", "POST"])
@roles_required(ROLE_PENGURUS)
def user_business_profile(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    if user.member is not None:
        return redirect(url_for("core.member_edit", member_id=user.member.id))
    form = MemberForm()
    if request.method == "GET":
        form.owner_name.data, form.whatsapp.data = user.name, user.phone or ""
    if form.validate_on_submit():
        try:
            member = accounts.add_business_profile(current_user, user, _details(form))
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            flash(_("%(name)s now also has the business %(business)s.", name=user.name,
                    business=member.business_name), "success")
            return redirect(url_for("core.members"))
    return render_template("admin/member_form.html", form=form, member=None, for_user=user)


def _account_page(user: User) -> str:
    return url_for("core.member_edit", member_id=user.member.id) if user.member else url_for("core.users")


@bp.post("/admin/pengguna/<int:user_id>/aktif")
@roles_required(ROLE_PENGURUS)
def user_active(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    active = request.form.get("active") == "1"
    try:
        accounts.set_active(current_user, user, active)
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash(_("%(name)s can sign in again.", name=user.name) if active
              else _("%(name)s can no longer sign in.", name=user.name), "success")
    return redirect(_account_page(user))


@bp.post("/admin/pengguna/<int:user_id>/tautan-sandi")
@roles_required(ROLE_PENGURUS)
def user_reset_link(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    try:
        token = accounts.create_reset_link_token(current_user, user)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(_account_page(user))
    return password_link_page(user, token, back=_account_page(user))


def password_link_page(user: User, token: str, back: str):
    """The page showing a fresh password link for `user`, with a button sending it over WhatsApp."""
    from .cooperative import current_cooperative

    link = absolute_url("core.reset_password", token=token)
    hours = current_app.config["RESET_LINK_HOURS"]
    coop = current_cooperative()
    text = _("Hello %(name)s, open this link to set a new password for %(coop)s (valid %(hours)d hours, "
             "one use only): %(link)s", name=user.name, coop=coop.name if coop else "", hours=hours, link=link)
    number = user.member.whatsapp if user.member else user.phone
    whatsapp = whatsapp_link(number, text) if number else None
    response = make_response(render_template("admin/reset_link.html", user=user, link=link, hours=hours,
                                             whatsapp=whatsapp, back=back))
    response.headers["Cache-Control"] = "no-store"
    return response


# --- member accounts (pengurus manages, pengawas reads) -------------------------------------------

@bp.get("/admin/anggota")
@roles_required(ROLE_PENGURUS, ROLE_PENGAWAS)
def members():
    rows = db.session.scalars(select(Member).order_by(Member.business_name)).all()
    return render_template("admin/members.html", members=rows)


def _details(form: MemberForm) -> accounts.MemberDetails:
    return accounts.MemberDetails(
        business_name=form.business_name.data or "", owner_name=form.owner_name.data or "",
        whatsapp=form.whatsapp.data or "", address=form.address.data or "", bank_name=form.bank_name.data or "",
        bank_account_number=form.bank_account_number.data or "",
        bank_account_holder=form.bank_account_holder.data or "",
    )


@bp.route("/admin/anggota/baru", methods=["GET", "POST"])
@roles_required(ROLE_PENGURUS)
def member_new():
    form = NewMemberForm()
    if form.validate_on_submit():
        try:
            member = accounts.create_member_account(details=_details(form), email=form.email.data,
                                                    phone=form.whatsapp.data, password=form.password.data,
                                                    actor=current_user)
        except DomainError as exc:
            if exc.field == "phone":
                exc.field = "whatsapp"
            show_domain_error(form, exc)
        else:
            flash(_("Member %(name)s was added.", name=member.business_name), "success")
            return redirect(url_for("core.members"))
    return render_template("admin/member_form.html", form=form, member=None)


@bp.route("/admin/anggota/<int:member_id>/ubah", methods=["GET", "POST"])
@roles_required(ROLE_PENGURUS)
def member_edit(member_id: int):
    member = db.session.get(Member, member_id) or abort(404)
    form = MemberForm(obj=member)
    if form.validate_on_submit():
        try:
            accounts.update_member(member, _details(form), current_user)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("core.members"))
    return render_template("admin/member_form.html", form=form, member=member)


def _cooperative_form():
    from .cooperative import current_cooperative

    coop = current_cooperative()
    return coop, CooperativeForm(obj=coop)


@bp.get("/admin/koperasi")
@roles_required(ROLE_PENGURUS, ROLE_PENGAWAS)
def cooperative_settings():
    from consignment.services import format_percent

    from .timeutil import zone_name

    coop, form = _cooperative_form()
    if coop is not None:
        form.default_commission.data = format_percent(coop.default_commission_bp).rstrip("%")
    form.time_zone.data = zone_name()
    return render_template("admin/cooperative.html", form=form, coop=coop)


@bp.post("/admin/koperasi")
@roles_required(ROLE_PENGURUS)
def cooperative_save():
    from consignment.services import parse_percent

    coop, form = _cooperative_form()
    chosen, kept = pending_photos.one_photo(form.logo)
    if form.validate_on_submit():
        try:
            accounts.save_cooperative(current_user, accounts.CooperativeDetails(
                name=form.name.data or "", legal_number=form.legal_number.data or "",
                address=form.address.data or "", village=form.village.data or "",
                whatsapp=form.whatsapp.data or "", about=form.about.data or "",
                default_commission_bp=parse_percent(form.default_commission.data),
                hero_text=form.hero_text.data or "", vision=form.vision.data or "",
                mission=form.mission.data or "", email=form.email.data or "", map_url=form.map_url.data or "",
                time_zone=form.time_zone.data or ""),
                logo=chosen, remove_logo=form.remove_logo.data)
        except DomainError as exc:
            if exc.field == "commission":
                exc.field = "default_commission"
            show_domain_error(form, exc)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("core.cooperative_settings"))
    return render_template("admin/cooperative.html", form=form, coop=coop,
                           kept=pending_photos.keep_one(chosen, kept, form.logo))
