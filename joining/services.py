"""Join requests: a woman who makes keripik asks on the public page to consign goods in the gerai; the
pengurus approves (her account and member profile are made, and a password link goes to her) or
declines with a reason.

No account exists until a pengurus approves. Spam is kept out by a honeypot field (a filled one is
answered like a success and stores nothing), by a limit per client address and per WhatsApp number
counted in the database over JOIN_WINDOW_HOURS (so it holds across worker processes), and by CSRF
on the form. Decisions are compare-and-set (pending -> approved | declined): of two pengurus deciding
at once, or one request sent twice, exactly one acts; the form's one-time key lets a repeat of the same
request get the first answer.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from marketplace.i18n import gettext as _
from sqlalchemy import func, select, update

from marketplace import once
from marketplace.accounts import MemberDetails, new_member_account, new_reset_link_token
from marketplace.audit import record_event
from marketplace.errors import DomainError, NotFound, PermissionDenied
from marketplace.extensions import db
from marketplace.models import ROLE_PENGURUS, Member, User
from marketplace.pending_photos import PendingPhoto, discard, store_chosen
from marketplace.photos import release_photo
from marketplace.text import limited, normalise_phone
from marketplace.timeutil import utcnow
from marketplace.transaction import transaction
from notifications import services as notify

from .models import APPROVE, DECLINE, PENDING, TRANSITIONS, JoinPhotoKeep, JoinRequest

MIN_REASON = 5


@dataclass
class JoinDetails:
    business_name: str
    owner_name: str
    whatsapp: str
    address: str = ""
    makes: str = ""


def _clean(details: JoinDetails) -> JoinDetails:
    business = limited(details.business_name, 200, "business_name", _("Business name"))
    owner = limited(details.owner_name, 200, "owner_name", _("Your name"))
    if len(business) < 2:
        raise DomainError(_("Write the name of your business."), field="business_name")
    if len(owner) < 2:
        raise DomainError(_("Write your name."), field="owner_name")
    whatsapp = normalise_phone(details.whatsapp)
    if not 9 <= len(whatsapp) <= 15:
        raise DomainError(_("That WhatsApp number is not valid, e.g. 0812 3456 7890."), field="whatsapp")
    address = limited(details.address, 1000, "address", _("Address"))
    if len(address) < 5:
        raise DomainError(_("Write your address, so the pengurus knows where you are."), field="address")
    makes = limited(details.makes, 2000, "makes", _("What you make"))
    if len(makes) < 5:
        raise DomainError(_("Write what you make, e.g. \"keripik pisang, 200 packs a week\"."), field="makes")
    return JoinDetails(business, owner, whatsapp, address, makes)


def _check_limits(ip: str, whatsapp: str) -> None:
    """Refuse when this client address or this number sent too many requests within the window."""
    cfg = current_app.config
    since = utcnow() - timedelta(hours=cfg["JOIN_WINDOW_HOURS"])

    def recent(column, value) -> int:
        return db.session.scalar(select(func.count(JoinRequest.id))
                                 .where(column == value, JoinRequest.created_at >= since)) or 0

    if recent(JoinRequest.whatsapp, whatsapp) >= cfg["JOIN_MAX_PER_NUMBER"]:
        raise DomainError(_("We already have your request for this WhatsApp number. The pengurus will contact "
                            "you; there is no need to send it again."))
    if recent(JoinRequest.ip, ip) >= cfg["JOIN_MAX_PER_ADDRESS"]:
        raise DomainError(_("Too many requests were sent from this connection. Please try again in %(n)d hours.",
                            n=cfg["JOIN_WINDOW_HOURS"]))


def may_keep_photo(ip: str) -> bool:
    """Whether a visitor's photo may be kept after a failed submit (and noted if so): each kept photo costs
    the photo pipeline's work and disk, so a client address gets JOIN_MAX_KEPT_PHOTOS within the window."""
    cfg = current_app.config
    ip = (ip or "")[:64]
    with transaction():
        since = utcnow() - timedelta(hours=cfg["JOIN_WINDOW_HOURS"])
        kept = db.session.scalar(select(func.count(JoinPhotoKeep.id))
                                 .where(JoinPhotoKeep.ip == ip, JoinPhotoKeep.created_at >= since)) or 0
        if kept >= cfg["JOIN_MAX_KEPT_PHOTOS"]:
            return False
        db.session.add(JoinPhotoKeep(ip=ip))
    return True


def submit_join_request(details: JoinDetails, photo: "tuple[str, bytes] | PendingPhoto | None", *, ip: str,
                        photo_owner: int, honeypot: str = "", once_key: str | None = None) -> JoinRequest | None:
    """Store a request from the public page. None when the honeypot was filled (a robot): it is answered
    like a success, and nothing is stored. DomainError (with the field) when something is missing, the
    number already has an account, or a limit is reached; the photo is checked by the photo pipeline."""
    if honeypot.strip():
        return None
    clean = _clean(details)
    if photo is None:
        raise DomainError(_("Choose a photo of one of your products."), field="photo")
    if db.session.scalar(select(User.id).where(User.phone == clean.whatsapp)) or \
            db.session.scalar(select(Member.id).where(Member.whatsapp == clean.whatsapp)):
        raise DomainError(_("This WhatsApp number already has an account. Sign in, or ask the pengurus."),
                          field="whatsapp")
    _check_limits(ip, clean.whatsapp)
    stored = store_chosen(photo, photo_owner, "photo")
    try:
        with transaction():
            first = once.claim(once_key, "join.request", None)
            if first is not None:
                return db.session.get(JoinRequest, first)
            join = JoinRequest(business_name=clean.business_name, owner_name=clean.owner_name,
                               whatsapp=clean.whatsapp, address=clean.address, makes=clean.makes,
                               photo_hash=stored.content_hash, photo_width=stored.width,
                               photo_height=stored.height, ip=(ip or "")[:64], status=PENDING)
            db.session.add(join)
            db.session.flush()
            once.remember(once_key, join.id)
            record_event(None, "join.request", join, f"{join.business_name} / {join.whatsapp}",
                         business=join.business_name, owner=join.owner_name)
    except BaseException:
        release_photo(stored.content_hash)
        raise
    discard([photo])
    return join


# --- the pengurus decides ----------------------------------------------------------------------------

@dataclass
class Approval:
    member: Member
    reset_token: str | None  # None when this request repeated one that had already approved it


def get_join_request(join_id: int) -> JoinRequest:
    join = db.session.get(JoinRequest, join_id)
    if join is None:
        raise NotFound(_("This join request does not exist."))
    return join


def _already_decided(join: JoinRequest) -> DomainError:
    db.session.refresh(join)
    return DomainError(_("This request was already decided: %(status)s.", status=join.status_label))


def _move(join: JoinRequest, action: str, actor: User, **values) -> bool:
    """Take `action` as a compare-and-set; True only for the request whose UPDATE moved the row."""
    from_statuses, to_status = TRANSITIONS[action]
    moved = db.session.execute(
        update(JoinRequest).where(JoinRequest.id == join.id, JoinRequest.status.in_(from_statuses))
        .values(status=to_status, decided_at=utcnow(), decided_by_id=actor.id, **values)
        .execution_options(synchronize_session=False)).rowcount
    return bool(moved)


def approve(actor: User, join_id: int, once_key: str | None = None) -> Approval:
    """Approve a pending request. One transaction: the status change, her member account and profile, the
    audit event, the message telling her she was accepted and her password link (the only way she learns
    to sign in, made with the accounts' own function, its message queued too). If any of it fails — e.g.
    there is no address to put in the link — none of it happened. Only the request that moved the status
    acts."""
    if not actor.has_role(ROLE_PENGURUS):
        raise PermissionDenied(_("Only pengurus can decide join requests."))
    join = get_join_request(join_id)
    with transaction():
        first = once.claim(once_key, "join.approve", actor)
        if first is not None:
            return Approval(db.session.get(Member, first), None)
        if not _move(join, APPROVE, actor):
            raise _already_decided(join)
        member = new_member_account(
            details=MemberDetails(business_name=join.business_name, owner_name=join.owner_name,
                                  whatsapp=join.whatsapp, address=join.address),
            email=None, phone=join.whatsapp, password=secrets.token_urlsafe(32))  # nobody knows it: she sets hers
        db.session.execute(update(JoinRequest).where(JoinRequest.id == join.id).values(member_id=member.id)
                           .execution_options(synchronize_session=False))
        once.remember(once_key, member.id)
        record_event(actor, "join.approve", join, f"{join.business_name} -> member {member.id}",
                     business=join.business_name, member=member.business_name)
        notify.notify_join_decided(join.id, accepted=True, owner_name=join.owner_name,
                                   business_name=join.business_name, phone=join.whatsapp, user=member.user)
        token = new_reset_link_token(actor, member.user)  # queues her password link, after the message above
    db.session.refresh(join)
    return Approval(member, token)


def decline(actor: User, join_id: int, reason: str, once_key: str | None = None) -> JoinRequest:
    """Decline a pending request with a reason she will be told; no account is made."""
    if not actor.has_role(ROLE_PENGURUS):
        raise PermissionDenied(_("Only pengurus can decide join requests."))
    reason = limited(reason, 1000, "reason", _("Reason"))
    if len(reason) < MIN_REASON:
        raise DomainError(_("Write the reason; she will read it."), field="reason")
    join = get_join_request(join_id)
    with transaction():
        first = once.claim(once_key, "join.decline", actor)
        if first is not None:
            return get_join_request(first)
        if not _move(join, DECLINE, actor, decline_reason=reason):
            raise _already_decided(join)
        once.remember(once_key, join.id)
        record_event(actor, "join.decline", join, reason, business=join.business_name, reason=reason)
        notify.notify_join_decided(join.id, accepted=False, owner_name=join.owner_name,
                                   business_name=join.business_name, phone=join.whatsapp, reason=reason)
    db.session.refresh(join)
    return join


# --- lists for the pengurus --------------------------------------------------------------------------

def list_join_requests(status: str | None, limit: int, offset: int) -> list[JoinRequest]:
    query = select(JoinRequest)
    if status:
        query = query.where(JoinRequest.status == status)
    return list(db.session.scalars(query.order_by(JoinRequest.created_at.desc(), JoinRequest.id.desc())
                                   .limit(limit).offset(offset)))


def pending_count() -> int:
    return db.session.scalar(select(func.count(JoinRequest.id)).where(JoinRequest.status == PENDING)) or 0
