import pytest
from sqlalchemy import func, select

from marketplace import accounts
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.models import AuditEvent, LoginAttempt, Member, User
from tests.conftest import PASSWORD


def test_password_is_stored_hashed(make_user):
    user = make_user("kasir")
    assert PASSWORD not in user.password_hash
    assert user.password_hash.startswith("pbkdf2:")


def test_duplicate_email_is_refused_with_a_message(make_user):
    make_user("kasir", email="sama@test.id")
    with pytest.raises(DomainError, match="sudah dipakai"):
        make_user("pengawas", email="SAMA@test.id")


def test_short_password_is_refused(make_user):
    with pytest.raises(DomainError) as exc:
        make_user("kasir", password="pendek")
    assert exc.value.field == "password"


def test_member_account_creates_login_profile_and_audit_event(make_member):
    member = make_member(business_name="Keripik Acil", whatsapp="0812-3456-7890")
    assert member.user.role == "member"
    assert member.whatsapp == "6281234567890"
    assert member.user.phone == "6281234567890"
    assert member.slug == "keripik-acil"
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "member.create")).all()
    assert [e.object_id for e in events] == [member.id]


def test_member_with_invalid_whatsapp_creates_nothing(make_member):
    with pytest.raises(DomainError) as exc:
        make_member(whatsapp="12")
    assert exc.value.field == "whatsapp"
    assert db.session.scalar(select(func.count(Member.id))) == 0
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_two_members_with_the_same_business_name_get_distinct_slugs(make_member):
    a = make_member(business_name="Sasirangan Galuh")
    b = make_member(business_name="Sasirangan Galuh")
    assert a.slug != b.slug


def test_member_signs_in_with_email_or_whatsapp_number(make_member):
    member = make_member(email="acil@test.id", whatsapp="081299990000")
    assert accounts.authenticate("acil@test.id", PASSWORD, "1.1.1.1").id == member.user.id
    assert accounts.authenticate("0812 9999 0000", PASSWORD, "1.1.1.1").id == member.user.id
    assert accounts.authenticate("acil@test.id", "salah-sandi", "1.1.1.1") is None


def test_inactive_user_cannot_sign_in(make_user):
    user = make_user("kasir")
    user.active = False
    db.session.commit()
    assert accounts.authenticate(user.email, PASSWORD, "1.1.1.1") is None


def test_repeated_failures_lock_the_account_for_a_while_even_with_the_right_password(app, make_user):
    user = make_user("pengurus")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert accounts.authenticate(user.email, "tebakan-salah", "10.0.0.1") is None
    with pytest.raises(accounts.LoginThrottled):
        accounts.authenticate(user.email, PASSWORD, "10.0.0.2")
    assert db.session.scalar(select(func.count(LoginAttempt.id))) == app.config["LOGIN_MAX_FAILURES"]


def test_failures_from_one_address_across_accounts_are_limited(app, make_user):
    app.config["LOGIN_MAX_FAILURES_PER_IP"] = 3
    for i in range(3):
        accounts.authenticate(f"orang{i}@test.id", "salah", "10.9.9.9")
    user = make_user("kasir")
    with pytest.raises(accounts.LoginThrottled):
        accounts.authenticate(user.email, PASSWORD, "10.9.9.9")
    assert accounts.authenticate(user.email, PASSWORD, "10.9.9.8").id == user.id


def test_writing_the_phone_differently_does_not_escape_the_per_account_limit(app, make_user):
    kasir = make_user("kasir", email=None, phone="0812-500-0000")
    spellings = ["0812-500-0000", "(0812)5000000", "+62 812 500 0000", "62812-5000-000", "812 5000 000",
                 " 08125000000 "]
    for spelling in spellings[:app.config["LOGIN_MAX_FAILURES"]]:
        assert accounts.authenticate(spelling, "tebakan-salah", f"10.0.0.{len(spelling)}") is None
    for spelling in spellings:  # every other spelling, even with the right password, is now refused too
        with pytest.raises(accounts.LoginThrottled):
            accounts.authenticate(spelling, PASSWORD, "10.0.1.1")
    assert kasir.active


def test_email_spelled_with_capitals_counts_for_the_same_account(app, make_user):
    user = make_user("pengurus", email="ketua@test.id")
    for spelling in ["Ketua@test.id", " KETUA@TEST.ID", "ketua@Test.Id", "ketua@test.id ", "KeTuA@test.id"]:
        accounts.authenticate(spelling, "tebakan-salah", "10.0.0.1")
    with pytest.raises(accounts.LoginThrottled):
        accounts.authenticate(user.email, PASSWORD, "10.0.0.2")


@pytest.mark.parametrize("who", ["unknown email", "unknown phone", "switched off", "known"])
def test_a_password_is_hashed_whether_or_not_the_account_exists(app, make_user, monkeypatch, who):
    # No timed assertion: an unknown account must cost the same hash check (same method) as a known one.
    kasir = make_user("kasir", phone="0813 7000 1234")
    if who == "switched off":
        kasir.active = False
        db.session.commit()
    identifier = {"unknown email": "tidak-ada@test.id", "unknown phone": "0899 1111 2222"}.get(who, kasir.email)
    checked = []
    real_check = accounts.check_password_hash

    def counting_check(pwhash, password):
        checked.append(pwhash.split("$", 1)[0])
        return real_check(pwhash, password)

    monkeypatch.setattr(accounts, "check_password_hash", counting_check)
    accounts.authenticate(identifier, "tebakan-salah", "10.0.0.1")
    assert checked == [app.config["PASSWORD_HASH_METHOD"]]
