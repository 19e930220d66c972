"""The join pages: the public form (a failed submit keeps what was typed and the photo), the pengurus'
list and decisions (sent twice, at once, one account), and what pengawas may do."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from joining.models import APPROVED, PENDING, JoinRequest
from marketplace.extensions import db
from marketplace.models import Member
from marketplace.once import new_key
from tests.conftest import jpeg_bytes


def form(**changes) -> dict:
    data = {"business_name": "Dodol Kandangan Ibu Ramlah", "owner_name": "Ramlah", "whatsapp": "0813-7777-8888",
            "address": "Jl. Simpang Empat 12, Kandangan", "makes": "Dodol ketan dan durian", "website": "",
            "once": new_key()}
    data.update(changes)
    return data


def with_photo(data: dict, seed: int = 1) -> dict:
    return {**data, "photo": (io.BytesIO(jpeg_bytes(seed=seed)), "dodol.jpg")}


def test_the_public_form_is_linked_from_every_page_and_makes_a_pending_request(client):
    assert 'href="/titip-produk"' in client.get("/tentang").get_data(as_text=True)
    response = client.post("/titip-produk", data=with_photo(form()), content_type="multipart/form-data")
    assert response.status_code == 302 and response.headers["Location"] == "/titip-produk/terkirim"
    join = db.session.scalar(select(JoinRequest))
    assert (join.status, join.whatsapp, join.photo_width) == (PENDING, "6281377778888", 800)
    assert "WhatsApp" in client.get("/titip-produk/terkirim").get_data(as_text=True)


def test_a_failed_submit_keeps_what_was_typed_and_the_photo(client):
    response = client.post("/titip-produk", data=with_photo(form(whatsapp="12")), content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="Dodol Kandangan Ibu Ramlah"' in page and "Dodol ketan dan durian" in page
    token = re.search(r'name="kept_photos" value="([^"]+)"', page).group(1)
    assert 'src="data:image/webp;base64,' in page
    # corrected, without choosing the photo again: the kept one is stored
    response = client.post("/titip-produk", data=form(kept_photos=token), content_type="multipart/form-data")
    assert response.status_code == 302
    assert db.session.scalar(select(JoinRequest.photo_width)) == 800


def test_failed_submits_from_one_address_keep_only_a_budget_of_photos(client, app, tmp_path):
    """Each kept photo costs the photo pipeline's work and disk: a client address sending failing forms
    with photos over and over gets JOIN_MAX_KEPT_PHOTOS kept, then is asked to choose the photo again."""
    app.config["JOIN_MAX_KEPT_PHOTOS"] = 2
    pending = Path(app.config["MEDIA_ROOT"]) / "private" / "pending"

    def kept_folders() -> int:
        return sum(1 for _ in pending.iterdir()) if pending.exists() else 0

    for _attempt in range(2):
        page = app.test_client().post("/titip-produk", data=with_photo(form(whatsapp="12")),
                                      content_type="multipart/form-data").get_data(as_text=True)
        assert 'name="kept_photos"' in page
    assert kept_folders() == 2
    response = app.test_client().post("/titip-produk", data=with_photo(form(whatsapp="12")),
                                      content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'name="kept_photos"' not in page
    assert "Terlalu sering mencoba" in page and kept_folders() == 2


def test_another_visitor_cannot_use_a_kept_photo(client, app):
    page = client.post("/titip-produk", data=with_photo(form(whatsapp="12")),
                       content_type="multipart/form-data").get_data(as_text=True)
    token = re.search(r'name="kept_photos" value="([^"]+)"', page).group(1)
    stranger = app.test_client()
    response = stranger.post("/titip-produk", data=form(kept_photos=token), content_type="multipart/form-data")
    assert response.status_code == 422 and db.session.scalar(select(func.count(JoinRequest.id))) == 0


def test_a_robot_filling_the_honeypot_sees_the_thanks_page_and_nothing_is_stored(client):
    response = client.post("/titip-produk", data=with_photo(form(website="http://spam.example")),
                           content_type="multipart/form-data")
    assert response.headers["Location"] == "/titip-produk/terkirim"
    assert db.session.scalar(select(func.count(JoinRequest.id))) == 0


def _pending(client) -> JoinRequest:
    client.post("/titip-produk", data=with_photo(form()), content_type="multipart/form-data")
    return db.session.scalar(select(JoinRequest))


@pytest.mark.parametrize("concurrently", [False, True], ids=["in_a_row", "at_once"])
def test_approve_sent_twice_makes_one_account(app, client, auth, make_user, send_twice, concurrently):
    join = _pending(app.test_client())
    pengurus = make_user("pengurus")
    auth.login(pengurus.email)
    responses = send_twice(client, f"/admin/pendaftaran/{join.id}/setujui", {"once": new_key()},
                           at_once_=concurrently)
    assert sorted(status for status, _location in responses) == [200, 302]
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Member.id))) == 1
    assert db.session.get(JoinRequest, join.id).status == APPROVED


def test_the_approval_shows_the_password_link_to_send_on_whatsapp(app, client, auth, make_user):
    join = _pending(app.test_client())
    auth.login(make_user("pengurus").email)
    page = client.post(f"/admin/pendaftaran/{join.id}/setujui", data={"once": new_key()}).get_data(as_text=True)
    assert "/atur-sandi/" in page and "https://wa.me/6281377778888?text=" in page


def test_a_decline_without_reason_is_refused_on_the_form_and_with_one_is_shown(app, client, auth, make_user):
    join = _pending(app.test_client())
    auth.login(make_user("pengurus").email)
    response = client.post(f"/admin/pendaftaran/{join.id}/tolak", data={"reason": "", "once": new_key()})
    assert response.status_code == 422
    client.post(f"/admin/pendaftaran/{join.id}/tolak", data={"reason": "Kuota gerai penuh bulan ini", "once": new_key()})
    page = client.get(f"/admin/pendaftaran/{join.id}").get_data(as_text=True)
    assert "Kuota gerai penuh bulan ini" in page


def test_pengawas_reads_the_list_and_detail_without_the_decision_buttons(app, client, auth, make_user):
    join = _pending(app.test_client())
    auth.login(make_user("pengawas").email)
    assert "Dodol Kandangan Ibu Ramlah" in client.get("/admin/pendaftaran").get_data(as_text=True)
    page = client.get(f"/admin/pendaftaran/{join.id}").get_data(as_text=True)
    assert "Ramlah" in page and "/setujui" not in page and "/tolak" not in page
    assert client.post(f"/admin/pendaftaran/{join.id}/setujui", data={"once": new_key()}).status_code == 403
