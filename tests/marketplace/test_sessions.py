"""Signing out, changing or resetting the password, and switching an account off end every other session
of that account: a copied session cookie and a copied 365-day remember cookie stop working."""
import pytest

from marketplace import accounts, create_app
from marketplace.extensions import db
from marketplace.models import User
from tests.conftest import PASSWORD

NEW = "kata-sandi-baru-99"


def _cookie(client, name: str) -> str:
    cookie = client.get_cookie(name)
    assert cookie is not None, f"no {name} cookie"
    return cookie.value


def _opens_dashboard(app, name: str, value: str) -> bool:
    """A fresh browser holding only this one (copied) cookie."""
    thief = app.test_client()
    thief.set_cookie(name, value)
    return thief.get("/dasbor").status_code == 200


def _sign_in(app, login: str):
    device = app.test_client()
    assert device.post("/masuk", data={"identifier": login, "password": PASSWORD, "remember": "y"}).status_code == 302
    return device


def _end_by_logout(app, device, user):
    device.post("/keluar")


def _end_by_password_change(app, device, user):
    response = device.post("/akun/kata-sandi", data={"current_password": PASSWORD, "new_password": NEW, "confirm": NEW})
    assert response.status_code == 302


def _end_by_password_reset(app, device, user):
    pengurus = accounts.create_user(name="Ketua", email="ketua@test.id", password=PASSWORD, role="pengurus")
    with app.test_request_context():  # as from the pengurus's page: the link's address is the site's
        token = accounts.create_reset_link_token(pengurus, user)
    response = app.test_client().post(f"/atur-sandi/{token}", data={"new_password": NEW, "confirm": NEW})
    assert response.status_code == 302


def _end_by_switching_off(app, device, user):
    pengurus = accounts.create_user(name="Ketua", email="ketua@test.id", password=PASSWORD, role="pengurus")
    accounts.set_active(pengurus, db.session.get(User, user.id), False)


@pytest.mark.parametrize("end", [_end_by_logout, _end_by_password_change, _end_by_password_reset,
                                 _end_by_switching_off], ids=["logout", "password-change", "password-reset",
                                                              "switch-off"])
def test_copied_session_and_remember_cookies_stop_working_when_sessions_end(app, make_member, end):
    member = make_member()
    device = _sign_in(app, member.user.email)
    stolen_session, stolen_remember = _cookie(device, "session"), _cookie(device, "remember_token")
    assert _opens_dashboard(app, "session", stolen_session)
    assert _opens_dashboard(app, "remember_token", stolen_remember)
    other_device = _sign_in(app, member.user.email)  # the owner's second phone

    end(app, device, member.user)

    assert not _opens_dashboard(app, "session", stolen_session)
    assert not _opens_dashboard(app, "remember_token", stolen_remember)
    assert other_device.get("/dasbor").status_code == 302


def test_who_changes_their_password_stays_signed_in_on_this_device(app, make_member):
    member = make_member()
    device = _sign_in(app, member.user.email)
    _end_by_password_change(app, device, member.user)
    assert device.get("/dasbor").status_code == 200
    # and the device's own remember cookie was renewed, so it still works after the browser closes
    assert _opens_dashboard(app, "remember_token", _cookie(device, "remember_token"))


def test_remember_cookie_is_samesite_lax_httponly_and_secure_in_production(app_config, make_member, monkeypatch):
    member = make_member()
    monkeypatch.setenv("APP_ENV", "production")
    production = create_app({**app_config, "SECRET_KEY": "a-long-random-secret-for-this-test-0123456789"})
    response = production.test_client().post("/masuk", data={"identifier": member.user.email, "password": PASSWORD,
                                                             "remember": "y"})
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    for name in ("remember_token", "session"):
        attributes = [a.strip().lower() for a in cookies[name].split(";")]
        assert {"secure", "httponly", "samesite=lax"} <= set(attributes), cookies[name]
