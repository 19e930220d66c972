"""Changing one's password, one-time password links made by pengurus, and staff accounts."""
import re
import time
from urllib.parse import unquote, urlsplit

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select

from marketplace import accounts
from marketplace.errors import DomainError, PermissionDenied
from marketplace.extensions import db
from marketplace.models import AuditEvent, User
from tests.conftest import PASSWORD

NEW = "kopi-susu-2026"


def _link_path(page: str) -> str:
    link = re.search(r'id="reset-link" type="text" readonly value="([^"]+)"', page).group(1)
    return urlsplit(link).path


def _actions(user: User) -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == user.id,
                                                                   AuditEvent.object_type == "User")))


# --- services ------------------------------------------------------------------------------------

def test_change_password_needs_the_current_one(make_user):
    user = make_user("kasir")
    with pytest.raises(DomainError) as err:
        accounts.change_password(user, "bukan-ini", NEW, NEW)
    assert err.value.field == "current_password"
    with pytest.raises(DomainError) as err:
        accounts.change_password(user, PASSWORD, NEW, NEW + "x")
    assert err.value.field == "confirm"
    with pytest.raises(DomainError) as err:
        accounts.change_password(user, PASSWORD, "pendek", "pendek")
    assert err.value.field == "new_password"
    accounts.change_password(user, PASSWORD, NEW, NEW)
    assert accounts.authenticate(user.email, NEW, "127.0.0.1") == user
    assert accounts.authenticate(user.email, PASSWORD, "127.0.0.1") is None
    assert "user.password_change" in _actions(user)


def test_a_password_link_works_once(app, make_user, make_member):
    pengurus, member = make_user("pengurus"), make_member()
    with app.test_request_context():  # as from the pengurus's page: the link's address is the site's
        token = accounts.create_reset_link_token(pengurus, member.user)
    assert accounts.user_for_reset_token(token) == member.user
    accounts.reset_password(token, NEW, NEW)
    assert accounts.authenticate(member.user.email, NEW, "127.0.0.1") == member.user
    with pytest.raises(DomainError, match="sudah dipakai|already used"):
        accounts.reset_password(token, "lain-lagi-123", "lain-lagi-123")
    assert accounts.authenticate(member.user.email, NEW, "127.0.0.1") == member.user
    assert {"user.password_reset_link", "user.password_reset"} <= set(_actions(member.user))


def test_a_password_link_expires(make_user, make_member, app, monkeypatch):
    with app.test_request_context():
        token = accounts.create_reset_link_token(make_user("pengurus"), make_member().user)
    later = int(time.time()) + (app.config["RESET_LINK_HOURS"] + 1) * 3600
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    with pytest.raises(DomainError, match="kedaluwarsa|expired"):
        accounts.user_for_reset_token(token)


def test_a_forged_or_tampered_password_link_is_refused(app, make_user, make_member):
    with app.test_request_context():
        token = accounts.create_reset_link_token(make_user("pengurus"), make_member().user)
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "abc", token.replace(".", "", 1)):
        with pytest.raises(DomainError, match="tidak sah|not valid"):
            accounts.user_for_reset_token(bad)


def test_only_pengurus_make_password_links_and_staff_accounts(make_user, make_member):
    member = make_member()
    for role in ("kasir", "pengawas", "member"):
        actor = member.user if role == "member" else make_user(role)
        with pytest.raises(PermissionDenied):
            accounts.create_reset_link_token(actor, member.user)
        with pytest.raises(PermissionDenied):
            accounts.create_staff_user(actor, name="X", email="x@test.id", phone=None, password=PASSWORD, role="kasir")
        with pytest.raises(PermissionDenied):
            accounts.set_active(actor, member.user, False)


def test_a_staff_account_cannot_be_a_member_account(make_user):
    with pytest.raises(DomainError) as err:
        accounts.create_staff_user(make_user("pengurus"), name="X", email="x@test.id", phone=None,
                                   password=PASSWORD, role="member")
    assert err.value.field == "role"


def test_a_switched_off_account_cannot_sign_in_and_its_link_stops_working(app, make_user):
    pengurus, kasir = make_user("pengurus"), make_user("kasir")
    with app.test_request_context():
        token = accounts.create_reset_link_token(pengurus, kasir)
    accounts.set_active(pengurus, kasir, False, "left the cooperative")
    assert accounts.authenticate(kasir.email, PASSWORD, "127.0.0.1") is None
    with pytest.raises(DomainError):
        accounts.user_for_reset_token(token)
    with pytest.raises(DomainError):
        accounts.create_reset_link_token(pengurus, kasir)
    accounts.set_active(pengurus, kasir, True)
    assert accounts.authenticate(kasir.email, PASSWORD, "127.0.0.1") == kasir
    assert _actions(kasir)[-2:] == ["user.deactivate", "user.activate"]


def test_pengurus_cannot_switch_off_their_own_account(make_user):
    # So the pengurus who could switch anyone back on can always sign in.
    first, second = make_user("pengurus"), make_user("pengurus")
    with pytest.raises(DomainError):
        accounts.set_active(first, first, False)
    accounts.set_active(second, first, False)
    assert accounts.authenticate(first.email, PASSWORD, "127.0.0.1") is None


# --- routes --------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", [None, "member", "kasir", "pengurus", "pengawas"])
def test_everyone_signed_in_can_change_their_password_through_the_form(client, auth, login_as, role):
    who = login_as(role)
    response = client.get("/akun/kata-sandi")
    if role is None:
        assert response.status_code == 302
        return
    assert response.status_code == 200
    response = client.post("/akun/kata-sandi", data={"current_password": "salah-salah", "new_password": NEW,
                                                      "confirm": NEW})
    assert "Kata sandi saat ini salah" in response.get_data(as_text=True)
    response = client.post("/akun/kata-sandi", data={"current_password": PASSWORD, "new_password": NEW,
                                                      "confirm": NEW})
    assert response.status_code == 302
    user = who.user if role == "member" else who
    auth.logout()
    assert auth.login(user.email, NEW).status_code == 302


def test_pengurus_switches_off_an_account_and_makes_a_password_link(client, login_as, make_user):
    target = make_user("kasir")
    login_as("pengurus")
    assert client.post(f"/admin/pengguna/{target.id}/tautan-sandi").status_code == 200
    assert client.post(f"/admin/pengguna/{target.id}/aktif", data={"active": "0"}).status_code == 302
    db.session.refresh(target)
    assert target.active is False


def test_pengurus_adds_a_kasir_who_signs_in_with_the_phone_number(client, auth, make_user):
    auth.login(make_user("pengurus").email)
    response = client.post("/admin/pengguna/baru", data={"name": "Siti Kasir", "role": "kasir", "phone": "0812 7777 1234",
                                                         "email": "", "password": "pendek"})
    page = response.get_data(as_text=True)
    assert "Minimal 8 karakter" in page or "minimal 8 karakter" in page.lower()
    assert 'value="Siti Kasir"' in page and 'value="0812 7777 1234"' in page  # what was typed is kept
    response = client.post("/admin/pengguna/baru", data={"name": "Siti Kasir", "role": "kasir",
                                                         "phone": "0812 7777 1234", "email": "", "password": PASSWORD})
    assert response.status_code == 302
    assert "Siti Kasir" in client.get("/admin/pengguna").get_data(as_text=True)
    auth.logout()
    assert auth.login("081277771234").status_code == 302
    assert client.get("/gerai/kasir").status_code == 200


def test_member_sets_a_new_password_with_the_link_sent_over_whatsapp(client, auth, make_user, make_member):
    member = make_member(business_name="Amplang Bu Ratna")
    auth.login(make_user("pengurus").email)
    edit = client.get(f"/admin/anggota/{member.id}/ubah").get_data(as_text=True)
    assert f"/admin/pengguna/{member.user.id}/tautan-sandi" in edit
    response = client.post(f"/admin/pengguna/{member.user.id}/tautan-sandi")
    page = response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    wa = re.search(r'href="(https://wa\.me/[^"]+)"', page).group(1).replace("&amp;", "&")
    assert wa.startswith(f"https://wa.me/{member.whatsapp}?text=")
    path = _link_path(page)
    assert path in unquote(wa)
    auth.logout()

    form = client.get(path)
    assert form.status_code == 200 and form.headers["Referrer-Policy"] == "no-referrer"
    response = client.post(path, data={"new_password": NEW, "confirm": "lain"})
    assert "tidak sama" in response.get_data(as_text=True)
    response = client.post(path, data={"new_password": NEW, "confirm": NEW})
    assert response.status_code == 302 and response.headers["Location"].endswith("/masuk")
    assert auth.login(member.user.email, NEW).status_code == 302
    auth.logout()
    used = client.get(path)
    assert used.status_code == 410 and "sudah dipakai" in used.get_data(as_text=True)


def test_switching_a_kasir_off_ends_their_open_session(client, auth, make_user, app):
    kasir = make_user("kasir")
    auth.login(kasir.email)
    assert client.get("/dasbor").status_code == 200
    other = app.test_client()  # the pengurus, in another browser
    other.post("/masuk", data={"identifier": make_user("pengurus").email, "password": PASSWORD})
    assert other.post(f"/admin/pengguna/{kasir.id}/aktif", data={"active": "0"}).status_code == 302
    assert client.get("/dasbor").status_code == 302  # sent to sign in
    assert auth.login(kasir.email).status_code == 200  # and refused there
