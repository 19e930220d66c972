"""Account services: users, member (UMKM) accounts, sign-in with rate limiting."""
from __future__ import annotations

from flask_babel import gettext as _

from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from .audit import record_event
from .errors import DomainError
from .extensions import db
from .transaction import transaction
from .models import ROLE_MEMBER, ROLES, LoginAttempt, Member, User
from .text import normalise_phone, slugify
from .timeutil import utcnow

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
        record_event(actor, "user.create", user, f"role={role}")
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


def create_member_account(*, details: MemberDetails, email: str | None, phone: str | None,
                          password: str, actor: User | None) -> Member:
    """Create a member login and its UMKM profile in one transaction."""
    with transaction():
        whatsapp = _check_member_details(details)
        user = _new_user(name=details.owner_name, email=email, phone=phone or details.whatsapp,
                         password=password, role=ROLE_MEMBER)
        member = Member(
            user=user,
            business_name=details.business_name.strip(),
            slug=_unique_member_slug(details.business_name),
            owner_name=details.owner_name.strip(),
            whatsapp=whatsapp,
            address=details.address.strip(),
            bank_name=details.bank_name.strip(),
            bank_account_number=details.bank_account_number.strip(),
            bank_account_holder=details.bank_account_holder.strip(),
            joined_on=details.joined_on or date.today(),
        )
        db.session.add(member)
        db.session.flush()
        record_event(actor, "member.create", member, member.business_name)
    return member


def update_member(member: Member, details: MemberDetails, actor: User) -> Member:
    with transaction():
        whatsapp = _check_member_details(details)
        before = f"{member.business_name}|{member.whatsapp}|{member.bank_name} {member.bank_account_number}"
        member.business_name = details.business_name.strip()
        member.owner_name = details.owner_name.strip()
        member.whatsapp = whatsapp
        member.address = details.address.strip()
        member.bank_name = details.bank_name.strip()
        member.bank_account_number = details.bank_account_number.strip()
        member.bank_account_holder = details.bank_account_holder.strip()
        after = f"{member.business_name}|{member.whatsapp}|{member.bank_name} {member.bank_account_number}"
        record_event(actor, "member.update", member, f"{before} -> {after}")
    return member


class LoginThrottled(DomainError):
    pass


def _recent_failures(column, value: str, since) -> int:
    return db.session.scalar(
        select(func.count(LoginAttempt.id)).where(
            column == value, LoginAttempt.succeeded.is_(False), LoginAttempt.created_at >= since
        )
    ) or 0


def authenticate(identifier: str, password: str, ip: str) -> User | None:
    """Check credentials; refuse while too many recent failures came for this account or IP.

    Attempts are stored in the database so the limit holds across all worker processes.
    Returns the user on success, None on bad credentials, raises LoginThrottled when limited.
    """
    cfg = current_app.config
    key = (identifier or "").strip().lower()[:254]
    window = timedelta(minutes=cfg["LOGIN_WINDOW_MINUTES"])
    since = utcnow() - window
    if (_recent_failures(LoginAttempt.identifier, key, since) >= cfg["LOGIN_MAX_FAILURES"]
            or _recent_failures(LoginAttempt.ip, ip, since) >= cfg["LOGIN_MAX_FAILURES_PER_IP"]):
        raise LoginThrottled(
            _("Too many failed sign-in attempts. Try again in %(n)d minutes.", n=cfg["LOGIN_WINDOW_MINUTES"])
        )
    user = find_user(identifier)
    ok = bool(user and user.active and check_password_hash(user.password_hash, password or ""))
    with transaction():
        db.session.add(LoginAttempt(identifier=key, ip=ip, succeeded=ok))
        if ok:
            user.last_login_at = utcnow()
    return user if ok else None


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


def save_cooperative(actor: User, details: CooperativeDetails):
    """Create or update the cooperative's profile and its default commission."""
    from .models import Cooperative

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
        before = f"{coop.name}|{coop.default_commission_bp}"
        coop.name, coop.legal_number = details.name.strip(), details.legal_number.strip()
        coop.address, coop.village, coop.whatsapp = details.address.strip(), details.village.strip(), whatsapp
        coop.about, coop.default_commission_bp = details.about.strip(), details.default_commission_bp
        map_url = details.map_url.strip()
        if map_url and not map_url.startswith(("https://", "http://")):
            raise DomainError(_("The map link must start with https://"), field="map_url")
        coop.hero_text, coop.vision, coop.mission = details.hero_text.strip(), details.vision.strip(), details.mission.strip()
        coop.email, coop.map_url = details.email.strip(), map_url
        db.session.flush()
        record_event(actor, "cooperative.update", coop, f"{before} -> {coop.name}|{coop.default_commission_bp}")
    return coop


SYSTEM_EMAIL = "sistem@pasar-koperasi.invalid"


def system_user() -> User:
    """The actor recorded for what no person did by hand (online orders, payment notifications).

    An inactive account: it can never sign in. Created on first use inside the caller's transaction.
    """
    user = db.session.scalar(select(User).where(User.email == SYSTEM_EMAIL))
    if user is None:
        import secrets

        user = User(name="Sistem (pesanan daring)", email=SYSTEM_EMAIL, role="kasir", active=False,
                    password_hash="!" + secrets.token_hex(16))  # no hash format matches: no password works
        db.session.add(user)
        db.session.flush()
    return user
