from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Member
from tests.conftest import PASSWORD


def test_sign_in_and_out(client, auth, make_user):
    user = make_user("kasir")
    response = auth.login(user.email)
    assert response.status_code == 302 and response.headers["Location"].endswith("/dasbor")
    assert user.name in client.get("/dasbor").get_data(as_text=True)
    auth.logout()
    assert client.get("/dasbor").status_code == 302


def test_wrong_password_keeps_the_typed_identifier(client, auth, make_user):
    user = make_user("kasir")
    response = auth.login(user.email, "keliru-sekali")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'value="{user.email}"' in page
    assert "Email/HP atau kata sandi salah" in page


def test_sign_in_is_rate_limited(client, auth, make_user, app):
    user = make_user("kasir")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        auth.login(user.email, "keliru-sekali")
    response = auth.login(user.email)
    assert response.status_code == 429
    assert "Terlalu banyak percobaan" in response.get_data(as_text=True)


def test_sign_in_ignores_an_offsite_next_url(client, auth, make_user):
    user = make_user("kasir")
    response = client.post("/masuk?next=https://jahat.example/", data={"identifier": user.email, "password": PASSWORD})
    assert response.headers["Location"].endswith("/dasbor")


def test_pengurus_adds_a_member_who_can_then_sign_in(client, auth, make_user):
    auth.login(make_user("pengurus").email)
    response = client.post("/admin/anggota/baru", data={
        "business_name": "Amplang Sungai Tabuk", "owner_name": "Rusdi", "whatsapp": "0812 7777 1234",
        "address": "Sungai Tabuk", "bank_name": "BRI", "bank_account_number": "0123456789",
        "bank_account_holder": "Rusdi", "email": "", "password": "amplang123",
    })
    assert response.status_code == 302
    member = db.session.scalar(select(Member).where(Member.business_name == "Amplang Sungai Tabuk"))
    assert member.bank_account_number == "0123456789"
    auth.logout()
    assert auth.login("081277771234", "amplang123").headers["Location"].endswith("/dasbor")


def test_member_form_keeps_what_was_typed_when_whatsapp_is_invalid(client, auth, make_user):
    auth.login(make_user("pengurus").email)
    response = client.post("/admin/anggota/baru", data={
        "business_name": "Wadai Hj. Aluh", "owner_name": "Aluh", "whatsapp": "123",
        "address": "Jl. Veteran 7", "password": "wadai12345",
    })
    page = response.get_data(as_text=True)
    assert 'value="Wadai Hj. Aluh"' in page and "Jl. Veteran 7" in page
    assert "Nomor WhatsApp tidak valid" in page


def test_forms_are_protected_by_csrf(app_config, make_user):
    from marketplace import create_app

    app = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    with app.app_context():
        email = make_user("kasir").email
    client = app.test_client()
    response = client.post("/masuk", data={"identifier": email, "password": PASSWORD})
    assert response.status_code == 400
    page = client.get("/masuk").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post("/masuk", data={"identifier": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302


def test_interface_is_indonesian_by_default_and_english_on_request(client):
    assert "Masuk" in client.get("/masuk").get_data(as_text=True)
    client.get("/bahasa/en")
    page = client.get("/masuk").get_data(as_text=True)
    assert "Sign in" in page and 'lang="en"' in page


def test_pengurus_sets_the_default_commission_used_at_intake(client, auth, make_user, make_lot):
    from consignment.services import commission_in_force
    from datetime import date

    auth.login(make_user("pengurus").email)
    response = client.post("/admin/koperasi", data={"name": "Koperasi Uji", "default_commission": "12,5",
                                                   "whatsapp": "0811 2222 3333"})
    assert response.status_code == 302
    lot = make_lot(quantity=3)
    assert lot.commission_bp == 1250
    assert commission_in_force(lot.member_id, None, date.today())[0] == 1250
