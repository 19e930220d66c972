"""Join requests: stored without an account, spam kept out, decided once (also when sent twice at once)."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from joining import services
from joining.models import APPROVED, DECLINED, PENDING, JoinRequest
from marketplace import once
from marketplace.accounts import user_for_reset_token
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.models import AuditEvent, Member, User
from notifications import messages as m
from notifications.models import Notification
from tests.conftest import jpeg_bytes

VISITOR = -12345


def details(n: int = 1, **changes) -> services.JoinDetails:
    fields = dict(business_name=f"Dodol Kandangan {n}", owner_name="Ramlah", whatsapp=f"0813 7777 {n:04d}",
                  address="Jl. Simpang Empat 12, Kandangan", makes="Dodol ketan, 100 bungkus seminggu")
    fields.update(changes)
    return services.JoinDetails(**fields)


def submit(n: int = 1, ip: str = "10.0.0.1", **kwargs):
    photo = kwargs.pop("photo", ("dodol.jpg", jpeg_bytes(seed=n)))
    return services.submit_join_request(details(n, **kwargs.pop("changes", {})), photo, ip=ip,
                                        photo_owner=VISITOR, **kwargs)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_request_is_stored_pending_with_a_normalised_number_and_its_photo_but_no_account(app):
    users_before = count(User)
    join = submit()
    assert (join.status, join.whatsapp, join.ip) == (PENDING, "6281377770001", "10.0.0.1")
    assert join.photo is not None and join.photo.width == 800
    assert count(User) == users_before and count(Member) == 0
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.object_id == join.id)) == "join.request"


def test_the_honeypot_filled_in_stores_nothing_and_says_nothing(app):
    assert submit(honeypot="http://spam.example") is None
    assert count(JoinRequest) == 0


def test_a_request_without_a_photo_or_with_a_bad_number_is_refused_by_field(app):
    with pytest.raises(DomainError) as no_photo:
        submit(photo=None)
    assert no_photo.value.field == "photo"
    with pytest.raises(DomainError) as bad_number:
        submit(changes={"whatsapp": "12"})
    assert bad_number.value.field == "whatsapp"
    assert count(JoinRequest) == 0


def test_a_number_is_limited_within_the_window(app):
    app.config.update(JOIN_MAX_PER_NUMBER=2, JOIN_MAX_PER_ADDRESS=100)
    submit(1, ip="10.0.0.1")
    services.submit_join_request(details(1), ("a.jpg", jpeg_bytes(seed=9)), ip="10.0.0.2", photo_owner=VISITOR)
    with pytest.raises(DomainError, match="already have your request|sudah kami terima"):
        services.submit_join_request(details(1, whatsapp="+62 813-7777-0001"), ("b.jpg", jpeg_bytes(seed=8)),
                                     ip="10.0.0.3", photo_owner=VISITOR)
    assert count(JoinRequest) == 2


def test_a_client_address_is_limited_within_the_window_and_free_again_after_it(app):
    app.config.update(JOIN_MAX_PER_ADDRESS=3, JOIN_MAX_PER_NUMBER=100, JOIN_WINDOW_HOURS=24)
    for n in range(3):
        submit(n, ip="10.9.9.9")
    with pytest.raises(DomainError, match="Too many requests|Terlalu banyak"):
        submit(7, ip="10.9.9.9")
    submit(8, ip="10.9.9.10")  # another address is not affected
    db.session.execute(JoinRequest.__table__.update().values(
        created_at=JoinRequest.__table__.c.created_at - __import__("datetime").timedelta(hours=25)))
    db.session.commit()
    assert submit(9, ip="10.9.9.9").status == PENDING  # the window has passed


def test_a_number_that_already_has_an_account_is_told_to_sign_in(app, make_member):
    member = make_member()
    with pytest.raises(DomainError, match="already has an account|sudah punya akun") as refused:
        submit(changes={"whatsapp": member.whatsapp})
    assert refused.value.field == "whatsapp"


def test_approving_makes_one_member_account_with_a_working_password_link_and_an_audit_event(app, make_user):
    pengurus, join = make_user("pengurus"), submit()
    with app.test_request_context(base_url="https://pasar.example.id"):  # as from the pengurus's page
        approval = services.approve(pengurus, join.id, once_key=once.new_key())
    member = approval.member
    assert (member.business_name, member.whatsapp, member.user.phone, member.user.role) == \
        ("Dodol Kandangan 1", "6281377770001", "6281377770001", "member")
    assert user_for_reset_token(approval.reset_token).id == member.user.id
    db.session.refresh(join)
    assert (join.status, join.member_id, join.decided_by_id) == (APPROVED, member.id, pengurus.id)
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == pengurus.id)).all()
    assert "join.approve" in actions and "user.password_reset_link" in actions
    # She hears it on WhatsApp (or from staff's wa.me list): accepted, and her password link.
    told = db.session.execute(select(Notification.event, Notification.key, Notification.phone)
                              .order_by(Notification.id)).all()
    assert [(event, phone) for event, _key, phone in told] == [(m.JOIN_ACCEPTED, "6281377770001"),
                                                               (m.PASSWORD_LINK, "6281377770001")]
    assert told[0].key == f"join:{join.id}"
    link = db.session.scalar(select(Notification.text).where(Notification.event == m.PASSWORD_LINK))
    assert f"https://pasar.example.id/atur-sandi/{approval.reset_token}" in link


def test_approval_and_her_password_link_are_one_transaction(app, make_user, monkeypatch):
    """If her password link cannot be made, she is not approved either: no member without a way to sign in."""
    from notifications import services as notify

    pengurus, join = make_user("pengurus"), submit()

    def link_fails(*args, **kwargs):
        raise RuntimeError("the outbox is unavailable")

    monkeypatch.setattr(notify, "notify_password_link", link_fails)
    with app.test_request_context(base_url="https://pasar.example.id"), pytest.raises(RuntimeError):
        services.approve(pengurus, join.id, once_key=once.new_key())
    db.session.refresh(join)
    assert (join.status, join.member_id) == (PENDING, None)
    assert count(Member) == 0 and count(Notification) == 0
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "join.approve")) == 0


def test_approving_outside_a_request_builds_her_link_on_the_public_address(app, make_user):
    app.config["PUBLIC_BASE_URL"] = "https://pasar.koperasi.example"
    pengurus, join = make_user("pengurus"), submit()
    approval = services.approve(pengurus, join.id)  # no request: a command, a job
    link = db.session.scalar(select(Notification.text).where(Notification.event == m.PASSWORD_LINK))
    assert f"https://pasar.koperasi.example/atur-sandi/{approval.reset_token}" in link


def test_without_any_address_for_her_link_the_approval_is_refused_and_says_what_to_set(app, make_user):
    app.config.update(PUBLIC_BASE_URL="", SERVER_NAME=None)
    pengurus, join = make_user("pengurus"), submit()
    with pytest.raises(DomainError, match="PUBLIC_BASE_URL"):
        services.approve(pengurus, join.id)  # no request, no PUBLIC_BASE_URL: the link could not be sent
    db.session.refresh(join)
    assert (join.status, count(Member), count(Notification)) == (PENDING, 0, 0)


def test_approving_twice_at_once_with_one_key_makes_one_member(app, make_user, at_once):
    app.config["PUBLIC_BASE_URL"] = "https://pasar.example.id"  # threads have no request for her link's address
    pengurus, join = make_user("pengurus"), submit()
    key, pengurus_id, join_id = once.new_key(), pengurus.id, join.id

    def approve():
        return services.approve(db.session.get(User, pengurus_id), join_id, once_key=key).member.id

    results = at_once(approve, approve)
    assert count(Member) == 1
    assert results[0] == results[1] == db.session.scalar(select(Member.id))


def test_two_pengurus_approving_at_once_make_one_member_and_the_other_is_told(app, make_user, at_once):
    app.config["PUBLIC_BASE_URL"] = "https://pasar.example.id"  # threads have no request for her link's address
    first, second, join = make_user("pengurus"), make_user("pengurus"), submit()
    ids, join_id = (first.id, second.id), join.id

    def approve(user_id):
        return lambda: services.approve(db.session.get(User, user_id), join_id, once_key=once.new_key()).member.id

    results = at_once(approve(ids[0]), approve(ids[1]))
    assert count(Member) == 1
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(refused) == 1 and re.search("already decided|sudah diputuskan", refused[0].message)


def test_declining_keeps_the_reason_and_makes_no_account(app, make_user):
    pengurus, join = make_user("pengurus"), submit()
    users_before = count(User)
    services.decline(pengurus, join.id, "Produk serupa sudah banyak di gerai", once_key=once.new_key())
    db.session.refresh(join)
    assert (join.status, join.decline_reason, join.member_id) == (DECLINED, "Produk serupa sudah banyak di gerai", None)
    assert count(User) == users_before
    [told] = db.session.scalars(select(Notification)).all()
    assert (told.event, told.key, told.user_id) == (m.JOIN_DECLINED, f"join:{join.id}", None)
    assert "Produk serupa sudah banyak di gerai" in told.text
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "join.decline"))
    assert json.loads(event.params)["reason"] == "Produk serupa sudah banyak di gerai"
    with pytest.raises(DomainError, match="already decided|sudah diputuskan"):
        services.approve(pengurus, join.id, once_key=once.new_key())


def test_a_decline_needs_a_reason_and_pengawas_cannot_decide(app, make_user):
    join = submit()
    with pytest.raises(DomainError) as no_reason:
        services.decline(make_user("pengurus"), join.id, "  ")
    assert no_reason.value.field == "reason"
    with pytest.raises(DomainError):
        services.approve(make_user("pengawas"), join.id)
    db.session.refresh(join)
    assert join.status == PENDING
