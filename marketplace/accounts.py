"""Account services: users, member (UMKM) accounts, sign-in with rate limiting."""
from __future__ import annotations

from marketplace.i18n import gettext as _

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from blinker import Namespace
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from .audit import record_event
from .errors import DomainError, PermissionDenied
from .extensions import db
from .transaction import transaction
from .pending_photos import PendingPhoto, discard, store_chosen
from .photos import release_photo
from .models import (ROLE_KASIR, ROLE_MEMBER, ROLE_PENGAWAS, ROLE_PENGURUS, ROLES, SYSTEM_EMAIL, LoginAttempt, Member,
                     User)
from .text import normalise_phone, slugify
from .timeutil import time_zone_changed, utcnow

MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def _normalise_identifier(identifier: str) -> tuple[str | None, str | None]:
    """Split a login identifier into (email, phone)."""
    identifier = (identifier or "").strip()
    if "@" in identifier:
        return identifier.lower(), None
    phone = normalise_phone(identifier)
    return None, phone or None


def find_user(identifier: str) -> User | None:
    email, phone = _normalise_identifier(identifier)
    if email:
        return db.session.scalar(select(User).where(User.email == email))
    if phone:
        return db.session.scalar(select(User).where(User.phone == phone))
    return None


def _validate_new_user(email: str | None, phone: str | None, password: str, role: str) -> tuple[str | None, str | None]:
    if role not in ROLES:
        raise DomainError(_("Unknown role: %(role)s", role=role), field="role")
    email = (email or "").strip().lower() or None
    phone = normalise_phone(phone or "") or None
    if not email and not phone:
        raise DomainError(_("Fill in an email address or a phone number."), field="email")
    if email and ("@" not in email or "." not in email.split("@")[-1]):
        raise DomainError(_("That email address is not valid."), field="email")
    if phone and not (9 <= len(phone) <= 15):
        raise DomainError(_("That phone number is not valid."), field="phone")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise DomainError(_("The password needs at least %(n)d characters.", n=MIN_PASSWORD_LENGTH), field="password")
    if email and db.session.scalar(select(User.id).where(User.email == email)):
        raise DomainError(_("This email is already used by another account."), field="email")
    if phone and db.session.scalar(select(User.id).where(User.phone == phone)):
        raise DomainError(_("This phone number is already used by another account."), field="phone")
    return email, phone


def _new_user(*, name: str, email: str | None, phone: str | None, password: str, role: str) -> User:
    email, phone = _validate_new_user(email, phone, password, role)
    if not (name or "").strip():
        raise DomainError(_("The name is required."), field="name")
    user = User(name=name.strip(), email=email, phone=phone, role=role, password_hash=hash_password(password))
    db.session.add(user)
    return user


def create_user(*, name: str, email: str | None = None, phone: str | None = None, password: str,
                role: str, actor: User | None = None) -> User:
    with transaction():
        user = _new_user(name=name, email=email, phone=phone, password=password, role=role)
        db.session.flush()
        record_event(actor, "user.create", user, f"role={role}", name=user.name, role=role)
    return user


def _unique_member_slug(business_name: str) -> str:
    base = slugify(business_name)
    slug, n = base, 2
    while db.session.scalar(select(Member.id).where(Member.slug == slug)):
        slug, n = f"{base}-{n}", n + 1
    return slug


@dataclass
class MemberDetails:
    business_name: str
    owner_name: str
    whatsapp: str
    address: str = ""
    bank_name: str = ""
    bank_account_number: str = ""
    bank_account_holder: str = ""
    joined_on: date | None = None


def _check_member_details(details: MemberDetails) -> str:
    if not details.business_name.strip():
        raise DomainError(_("The business name is required."), field="business_name")
    if not details.owner_name.strip():
        raise DomainError(_("The owner's name is required."), field="owner_name")
    whatsapp = normalise_phone(details.whatsapp)
    if not (9 <= len(whatsapp) <= 15):
        raise DomainError(_("That WhatsApp number is not valid, e.g. 0812 3456 7890."), field="whatsapp")
    if details.bank_account_number and not details.bank_account_number.replace(" ", "").replace("-", "").isdigit():
        raise DomainError(_("A bank account number contains digits only."), field="bank_account_number")
    return whatsapp


def _apply_member_details(member: Member, details: MemberDetails, whatsapp: str) -> None:
    """Copy checked details (`whatsapp` as returned by _check_member_details) onto a member."""
    member.business_name = details.business_name.strip()
    member.owner_name = details.owner_name.strip()
    member.whatsapp = whatsapp
    member.address = details.address.strip()
    member.bank_name = details.bank_name.strip()
    member.bank_account_number = details.bank_account_number.strip()
    member.bank_account_holder = details.bank_account_holder.strip()


def _new_member(user: User, details: MemberDetails, whatsapp: str) -> Member:
    member = Member(user=user, slug=_unique_member_slug(details.business_name),
                    joined_on=details.joined_on or date.today())
    _apply_member_details(member, details, whatsapp)
    db.session.add(member)
    db.session.flush()
    return member


def new_member_account(*, details: MemberDetails, email: str | None, phone: str | None, password: str) -> Member:
    """A member login and its UMKM profile, checked and added inside the CALLER's transaction (no audit)."""
    whatsapp = _check_member_details(details)
    user = _new_user(name=details.owner_name, email=email, phone=phone or details.whatsapp,
                     password=password, role=ROLE_MEMBER)
    return _new_member(user, details, whatsapp)


def create_member_account(*, details: MemberDetails, email: str | None, phone: str | None,
                          password: str, actor: User | None) -> Member:
    """Create a member login and its UMKM profile in one transaction."""
    with transaction():
        member = new_member_account(details=details, email=email, phone=phone, password=password)
        record_event(actor, "member.create", member, member.business_name, member=member.business_name)
    return member


def add_business_profile(actor: User, user: User, details: MemberDetails) -> Member:
    """Give a kasir, pengurus or pengawas account a business (UMKM) profile of its own.

    Board members are often UMKM too; with a profile the same sign-in also lists products, consigns
    goods and receives payouts like any member, while keeping its staff role.
    """
    if not actor.has_role(ROLE_PENGURUS):
        raise PermissionDenied(_("Only pengurus can add members."))
    if user.role == ROLE_MEMBER or user.member is not None:
        raise DomainError(_("This account already has a business profile."))
    with transaction():
        member = _new_member(user, details, _check_member_details(details))
        record_event(actor, "member.create", member, f"{member.business_name} (profile of {user.role} {user.login_name})",
                     member=member.business_name)
    return member


def update_member(member: Member, details: MemberDetails, actor: User) -> Member:
    with transaction():
        whatsapp = _check_member_details(details)
        before = f"{member.business_name}|{member.whatsapp}|{member.bank_name} {member.bank_account_number}"
        _apply_member_details(member, details, whatsapp)
        after = f"{member.business_name}|{member.whatsapp}|{member.bank_name} {member.bank_account_number}"
        record_event(actor, "member.update", member, f"{before} -> {after}", member=member.business_name)
    return member


class LoginThrottled(DomainError):
    pass


# --- passwords: change, and one-time reset links ---------------------------------------------------

RESET_SALT = "password-reset"
# Sent (user, token=…) inside the transaction that makes a password link: notifications/ queues the
# message to that person in the same transaction (the core imports no domain package).
password_link_made = Namespace().signal("password-link-made")


def _check_new_password(new: str, confirm: str) -> None:
    if len(new or "") < MIN_PASSWORD_LENGTH:
        raise DomainError(_("The password needs at least %(n)d characters.", n=MIN_PASSWORD_LENGTH), field="new_password")
    if new != confirm:
        raise DomainError(_("The two new passwords are not the same."), field="confirm")


def change_password(user: User, current: str, new: str, confirm: str) -> None:
    """A signed-in user replaces their own password; the current one must be given."""
    with transaction():
        if not check_password_hash(user.password_hash, current or ""):
            raise DomainError(_("The current password is not right."), field="current_password")
        _check_new_password(new, confirm)
        user.password_hash = hash_password(new)
        user.end_sessions()  # a thief's copied cookie stops working; the route signs this device in again
        record_event(user, "user.password_change", user, "", name=user.name)


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=RESET_SALT)


def _password_fingerprint(user: User) -> str:
    # Part of the token: once the password changes, every earlier link stops working (one use only).
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def create_reset_link_token(actor: User, user: User) -> str:
    """Pengurus makes a one-time link with which `user` sets a new password (valid RESET_LINK_HOURS).

    Members have no email here; the link goes to them over WhatsApp. The pengurus never learns the
    new password, and the audit log says who made a link for whom and when.
    """
    with transaction():
        return new_reset_link_token(actor, user)


def new_reset_link_token(actor: User, user: User) -> str:
    """create_reset_link_token inside the CALLER's transaction (e.g. the approval of a join request that made
    `user`): audited, and its WhatsApp message queued (`password_link_made`) with the caller's change."""
    if not actor.has_role(ROLE_PENGURUS):
        raise PermissionDenied(_("Only pengurus can make a password link."))
    if not user.active:
        raise DomainError(_("This account is switched off; switch it on first."))
    db.session.flush()  # a user made in this transaction: its id and password hash are in the token
    record_event(actor, "user.password_reset_link", user, f"for {user.login_name}", name=user.name)
    token = _reset_serializer().dumps({"u": user.id, "f": _password_fingerprint(user)})
    password_link_made.send(user, token=token)
    return token


def user_for_reset_token(token: str) -> User:
    """The account a reset link is for; DomainError when it is expired, used or not genuine."""
    hours = current_app.config["RESET_LINK_HOURS"]
    try:
        data = _reset_serializer().loads(token, max_age=hours * 3600)
    except SignatureExpired:
        raise DomainError(_("This link has expired. Ask the pengurus for a new one.")) from None
    except BadSignature:
        raise DomainError(_("This link is not valid. Ask the pengurus for a new one.")) from None
    user = db.session.get(User, int(data.get("u", 0)))
    if user is None or not user.active or data.get("f") != _password_fingerprint(user):
        raise DomainError(_("This link was already used. Ask the pengurus for a new one."))
    return user


def reset_password(token: str, new: str, confirm: str) -> User:
    with transaction():
        user = user_for_reset_token(token)
        _check_new_password(new, confirm)
        user.password_hash = hash_password(new)
        user.end_sessions()
        record_event(user, "user.password_reset", user, "with a link", name=user.name)
    return user


# --- staff accounts ------------------------------------------------------------------------------

STAFF_ROLES = (ROLE_KASIR, ROLE_PENGURUS, ROLE_PENGAWAS)


def create_staff_user(actor: User, *, name: str, email: str | None, phone: str | None, password: str,
                      role: str) -> User:
    if not actor.has_role(ROLE_PENGURUS):
        raise PermissionDenied(_("Only pengurus can add accounts."))
    if role not in STAFF_ROLES:
        raise DomainError(_("Choose kasir, pengurus or pengawas."), field="role")
    return create_user(name=name, email=email, phone=phone, password=password, role=role, actor=actor)


def set_active(actor: User, user: User, active: bool, reason: str = "") -> User:
    """Switch an account off (it can no longer sign in, open sessions end) or on again."""
    if not actor.has_role(ROLE_PENGURUS):
        raise PermissionDenied(_("Only pengurus can switch accounts off or on."))
    if user.id == actor.id:  # and so at least one pengurus always stays able to sign in
        raise DomainError(_("You cannot switch off your own account."))
    with transaction():
        user.active = active
        user.end_sessions()
        record_event(actor, "user.activate" if active else "user.deactivate", user, reason.strip(),
                     name=user.name, reason=reason.strip())
    return user


def staff_users() -> list[User]:
    return list(db.session.scalars(select(User).where(User.role.in_(STAFF_ROLES)).options(selectinload(User.member))
                                   .order_by(User.role, User.name)))


def _recent_failures(column, value: str, since) -> int:
    return db.session.scalar(
        select(func.count(LoginAttempt.id)).where(
            column == value, LoginAttempt.succeeded.is_(False), LoginAttempt.created_at >= since
        )
    ) or 0


@lru_cache(maxsize=4)
def _dummy_hash(method: str) -> str:
    return generate_password_hash("no account has this password", method=method)


def _attempt_key(identifier: str) -> str:
    """One key per account however it is written: `0812-500-0000`, `(0812)5000000` and `+62 812 500 0000`
    are the same phone, so they share one failure count."""
    email, phone = _normalise_identifier(identifier)
    return (email or phone or (identifier or "").strip().lower())[:254]


def authenticate(identifier: str, password: str, ip: str) -> User | None:
    """Check credentials; refuse while too many recent failures came for this account or IP.

    Attempts are stored in the database so the limit holds across all worker processes.
    Returns the user on success, None on bad credentials, raises LoginThrottled when limited.
    A password is hashed whether or not the account exists (against a dummy hash of the same method),
    so the answer takes as long for an unknown account as for a known one.
    """
    cfg = current_app.config
    key = _attempt_key(identifier)
    window = timedelta(minutes=cfg["LOGIN_WINDOW_MINUTES"])
    since = utcnow() - window
    if (_recent_failures(LoginAttempt.identifier, key, since) >= cfg["LOGIN_MAX_FAILURES"]
            or _recent_failures(LoginAttempt.ip, ip, since) >= cfg["LOGIN_MAX_FAILURES_PER_IP"]):
        raise LoginThrottled(
            _("Too many failed sign-in attempts. Try again in %(n)d minutes.", n=cfg["LOGIN_WINDOW_MINUTES"])
        )
    user = find_user(identifier)
    password_ok = check_password_hash(user.password_hash if user else _dummy_hash(cfg["PASSWORD_HASH_METHOD"]),
                                      password or "")
    ok = bool(user and user.active and password_ok)
    with transaction():
        db.session.add(LoginAttempt(identifier=key, ip=ip, succeeded=ok))
        if ok:
            user.last_login_at = utcnow()
    return user if ok else None


def user_for_session(session_id: str) -> User | None:
    """Flask-Login's user loader: the account of a session or remember cookie ("id:token", see
    User.get_id), or None once that account's sessions were ended."""
    user_id, _sep, token = (session_id or "").partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.session_token or not hmac.compare_digest(user.session_token, token):
        return None
    return user


def sign_out(user: User) -> None:
    """Signing out ends every session of the account, also those opened with a copied cookie."""
    with transaction():
        user.end_sessions()


@dataclass
class CooperativeDetails:
    name: str
    legal_number: str = ""
    address: str = ""
    village: str = ""
    whatsapp: str = ""
    about: str = ""
    default_commission_bp: int = 1500
    hero_text: str = ""
    vision: str = ""
    mission: str = ""
    email: str = ""
    map_url: str = ""
    time_zone: str = ""  # "" keeps the current setting


def save_cooperative(actor: User, details: CooperativeDetails, logo: tuple[str, bytes] | PendingPhoto | None = None,
                     remove_logo: bool = False):
    """Create or update the cooperative's profile, its logo and its default commission.

    A new logo goes through the photo pipeline (checked, upright, WebP variants) before the transaction,
    so a rejected file changes nothing and says why on the form.
    """
    from .models import Cooperative

    stored = store_chosen(logo, actor.id, "logo")
    with transaction():
        if not details.name.strip():
            raise DomainError(_("The name is required."), field="name")
        if not 0 <= details.default_commission_bp <= 10000:
            raise DomainError(_("The commission cannot be more than 100 percent."), field="default_commission")
        whatsapp = normalise_phone(details.whatsapp) if details.whatsapp.strip() else ""
        if whatsapp and not 9 <= len(whatsapp) <= 15:
            raise DomainError(_("That WhatsApp number is not valid, e.g. 0812 3456 7890."), field="whatsapp")
        coop = db.session.scalar(select(Cooperative).order_by(Cooperative.id).limit(1))
        if coop is None:
            coop = Cooperative(name=details.name)
            db.session.add(coop)
        before = f"{coop.name}|{coop.default_commission_bp}|{coop.time_zone}"
        coop.name, coop.legal_number = details.name.strip(), details.legal_number.strip()
        coop.address, coop.village, coop.whatsapp = details.address.strip(), details.village.strip(), whatsapp
        coop.about, coop.default_commission_bp = details.about.strip(), details.default_commission_bp
        map_url = details.map_url.strip()
        if map_url and not map_url.startswith(("https://", "http://")):
            raise DomainError(_("The map link must start with https://"), field="map_url")
        coop.hero_text, coop.vision, coop.mission = details.hero_text.strip(), details.vision.strip(), details.mission.strip()
        coop.email, coop.map_url = details.email.strip(), map_url
        if details.time_zone:
            from .timeutil import ZONE_CHOICES

            if details.time_zone not in dict(ZONE_CHOICES):
                raise DomainError(_("Choose WIB, WITA or WIT."), field="time_zone")
            coop.time_zone = details.time_zone
        logo_note, old_logo = "", coop.logo_hash
        if stored is not None:
            coop.set_logo(stored)
            logo_note = f" logo={stored.content_hash[:12]}"
        elif remove_logo and coop.logo_hash:
            coop.set_logo(None)
            logo_note = " logo removed"
        db.session.flush()
        if before.rsplit("|", 1)[1] != coop.time_zone:
            time_zone_changed.send(coop)
        record_event(actor, "cooperative.update", coop,
                     f"{before} -> {coop.name}|{coop.default_commission_bp}|{coop.time_zone}{logo_note}",
                     name=coop.name)
    discard([logo])
    if old_logo != coop.logo_hash:
        release_photo(old_logo)
    return coop


SYSTEM_NAME = "Sistem (pesanan daring)"  # stored name; pages show User.display_name in their language


def system_user() -> User:
    """The actor recorded for what no person did by hand (online orders, payment notifications).

    An inactive account: it can never sign in. Migration 0008 creates it, so concurrent first checkouts
    never race to make it. A database emptied by hand (the tests do) gets it back here; should two
    requests still race, the loser's insert fails on the unique e-mail and it uses the winner's row.
    """
    user = db.session.scalar(select(User).where(User.email == SYSTEM_EMAIL))
    if user is None:
        try:
            with db.session.begin_nested():
                user = User(name=SYSTEM_NAME, email=SYSTEM_EMAIL, role="kasir", active=False,
                            password_hash="!" + secrets.token_hex(16))  # no hash format matches: no password works
                db.session.add(user)
        except IntegrityError:
            user = db.session.scalar(select(User).where(User.email == SYSTEM_EMAIL))
    return user
