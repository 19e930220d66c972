"""Routes of joining: the public page /titip-produk and the pengurus' list of join requests."""
from __future__ import annotations

import base64
import secrets

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from marketplace.i18n import gettext as _
from flask_login import current_user

from marketplace import pending_photos
from marketplace.errors import DomainError, NotFound
from marketplace.models import ROLE_PENGAWAS, ROLE_PENGURUS
from marketplace.routes import password_link_page
from marketplace.security import public, roles_required
from marketplace.views import Page, page_arg, show_domain_error

from . import services
from .forms import ApproveForm, DeclineForm, JoinForm
from .models import STATUS_LABELS, STATUSES

bp = Blueprint("joining", __name__, template_folder="templates")

VISITOR_KEY = "join_photo_owner"


def _visitor_owner() -> int:
    """Whose kept photo this is on the public form: a random id bound to this browser's session (negative,
    so it is never a user's id); another visitor cannot use or see it."""
    if VISITOR_KEY not in session:
        session[VISITOR_KEY] = -(secrets.randbelow(2**31 - 2) + 1)
    return session[VISITOR_KEY]


def _previews(kept, owner: int) -> dict[str, str]:
    """The kept photo's small preview inline (the visitor has no account to fetch it with)."""
    found = {}
    for k in kept:
        path = pending_photos.preview(k.token, owner)
        if path is not None:
            found[k.token] = "data:image/webp;base64," + base64.b64encode(path.read_bytes()).decode()
    return found


@bp.get("/titip-produk")
@public
def join_form():
    return render_template("joining/join.html", form=JoinForm(), kept=[], previews={})


@bp.post("/titip-produk")
@public
def join_submit():
    form = JoinForm()
    owner = _visitor_owner()
    chosen, kept = pending_photos.one_photo(form.photo, owner)
    if form.validate_on_submit():
        try:
            services.submit_join_request(
                services.JoinDetails(business_name=form.business_name.data or "", owner_name=form.owner_name.data or "",
                                     whatsapp=form.whatsapp.data or "", address=form.address.data or "",
                                     makes=form.makes.data or ""),
                chosen, ip=request.remote_addr or "", photo_owner=owner, honeypot=form.website.data or "",
                once_key=form.once.data)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            return redirect(url_for("joining.join_sent"))
    if isinstance(chosen, tuple) and not services.may_keep_photo(request.remote_addr or ""):
        form.photo.errors = [*form.photo.errors, _("Too many tries from this connection: choose the photo "
                                                   "again when you send the form.")]
    else:
        kept = pending_photos.keep_one(chosen, kept, form.photo, owner)
    return render_template("joining/join.html", form=form, kept=kept, previews=_previews(kept, owner)), 422


@bp.get("/titip-produk/terkirim")
@public
def join_sent():
    return render_template("joining/sent.html")


# --- the pengurus decides (pengawas reads) ----------------------------------------------------------

@bp.get("/admin/pendaftaran")
@roles_required(ROLE_PENGURUS, ROLE_PENGAWAS)
def requests():
    status = request.args.get("status", "pending")
    if status not in STATUSES:
        status = ""
    page = Page.of(lambda limit, offset: services.list_join_requests(status or None, limit, offset), page_arg())
    return render_template("joining/list.html", page=page, status=status, statuses=STATUS_LABELS)


def _detail(join_id: int, approve_form=None, decline_form=None, status: int = 200):
    try:
        join = services.get_join_request(join_id)
    except NotFound:
        abort(404)
    return render_template("joining/detail.html", join=join, approve_form=approve_form or ApproveForm(),
                           decline_form=decline_form or DeclineForm()), status


@bp.get("/admin/pendaftaran/<int:join_id>")
@roles_required(ROLE_PENGURUS, ROLE_PENGAWAS)
def request_detail(join_id: int):
    return _detail(join_id)


@bp.post("/admin/pendaftaran/<int:join_id>/setujui")
@roles_required(ROLE_PENGURUS)
def request_approve(join_id: int):
    form = ApproveForm()
    if not form.validate_on_submit():
        return _detail(join_id, approve_form=form, status=422)
    try:
        approval = services.approve(current_user, join_id, once_key=form.once.data)
    except NotFound:
        abort(404)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("joining.request_detail", join_id=join_id))
    if approval.reset_token is None:  # a repeat of a request that already approved it
        flash(_("%(name)s is already a member.", name=approval.member.business_name), "success")
        return redirect(url_for("joining.request_detail", join_id=join_id))
    flash(_("%(name)s is now a member. Send her the password link below.", name=approval.member.business_name),
          "success")
    return password_link_page(approval.member.user, approval.reset_token,
                              back=url_for("joining.request_detail", join_id=join_id))


@bp.post("/admin/pendaftaran/<int:join_id>/tolak")
@roles_required(ROLE_PENGURUS)
def request_decline(join_id: int):
    form = DeclineForm()
    if not form.validate_on_submit():
        return _detail(join_id, decline_form=form, status=422)
    try:
        join = services.decline(current_user, join_id, form.reason.data or "", once_key=form.once.data)
    except NotFound:
        abort(404)
    except DomainError as exc:
        show_domain_error(form, exc)
        return _detail(join_id, decline_form=form, status=422)
    flash(_("The request of %(name)s was declined.", name=join.business_name), "success")
    return redirect(url_for("joining.request_detail", join_id=join_id))
