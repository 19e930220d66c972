"""Core routes: health, sign-in, language, media files, dashboard, member accounts."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_from_directory, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select, text

from . import accounts
from .errors import DomainError
from .extensions import db
from .forms import CooperativeForm, LoginForm, MemberForm, NewMemberForm
from .models import ROLE_PENGAWAS, ROLE_PENGURUS, Member
from .security import roles_required
from .views import show_domain_error

bp = Blueprint("core", __name__)

PHOTO_MAX_AGE = 365 * 24 * 3600


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # pragma: no cover - needs a broken database
        return {"status": "error", "database": str(exc.__class__.__name__)}, 503
    return {"status": "ok", "database": "ok"}


@bp.get("/media/photos/<path:name>")
def photo_file(name: str):
    directory = Path(current_app.config["MEDIA_ROOT"]) / "public" / "photos"
    response = send_from_directory(directory, name, max_age=PHOTO_MAX_AGE)
    # Names are content hashes: a file never changes, so browsers and proxies may keep it for a year.
    response.headers["Cache-Control"] = f"public, max-age={PHOTO_MAX_AGE}, immutable"
    return response


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.get("/bahasa/<code>")
def set_language(code: str):
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(_safe_next(request.args.get("next")) or url_for("storefront.home"))


@bp.route("/masuk", methods=["GET", "POST"])
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
        return redirect(_safe_next(request.args.get("next")) or url_for("core.dashboard"))
    return render_template("auth/login.html", form=form)


@bp.post("/keluar")
@login_required
def logout():
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You are signed out."), "info")
    return redirect(url_for("storefront.home"))


@bp.get("/dasbor")
@login_required
def dashboard():
    return render_template("dashboard.html")


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


@bp.route("/admin/koperasi", methods=["GET", "POST"])
@roles_required(ROLE_PENGURUS, ROLE_PENGAWAS)
def cooperative_settings():
    from consignment.services import format_percent, parse_percent

    from .cooperative import current_cooperative

    coop = current_cooperative()
    form = CooperativeForm(obj=coop)
    if request.method == "GET" and coop is not None:
        form.default_commission.data = format_percent(coop.default_commission_bp).rstrip("%")
    if request.method == "POST":
        if not current_user.has_role(ROLE_PENGURUS):
            abort(403)
        if form.validate_on_submit():
            try:
                accounts.save_cooperative(current_user, accounts.CooperativeDetails(
                    name=form.name.data or "", legal_number=form.legal_number.data or "",
                    address=form.address.data or "", village=form.village.data or "",
                    whatsapp=form.whatsapp.data or "", about=form.about.data or "",
                    default_commission_bp=parse_percent(form.default_commission.data),
                    hero_text=form.hero_text.data or "", vision=form.vision.data or "",
                    mission=form.mission.data or "", email=form.email.data or "", map_url=form.map_url.data or ""))
            except DomainError as exc:
                if exc.field == "commission":
                    exc.field = "default_commission"
                show_domain_error(form, exc)
            else:
                flash(_("Saved."), "success")
                return redirect(url_for("core.cooperative_settings"))
    return render_template("admin/cooperative.html", form=form)
