"""The webhook over real HTTP; the staff's wa.me list; the member's inbox and choices."""
from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import quote

import requests
from sqlalchemy import select

from marketplace.extensions import db
from notifications import messages as m
from notifications import sender, services as notify
from notifications.models import DELIVERED, FAILED, MANUAL_PENDING, MANUAL_SENT, READ, SENT, Notification
from tests.conftest import WHATSAPP_APP_SECRET, WHATSAPP_VERIFY_TOKEN, whatsapp_status_payload


def row(notification_id: int) -> Notification:
    db.session.expire_all()
    return db.session.get(Notification, notification_id)


def queue(member, key="low:1", event=m.LOW_STOCK, params=None) -> int:
    notify.enqueue(key, event, params or [member.owner_name, "Keripik Pisang", 2], user_id=member.user_id,
                   phone=member.whatsapp)
    db.session.commit()
    return db.session.scalar(select(Notification.id).where(Notification.key == key))


def signed(body: bytes, secret: str = WHATSAPP_APP_SECRET) -> dict:
    return {"Content-Type": "application/json",
            "X-Hub-Signature-256": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}


def status(message_id: str, name: str, **extra) -> bytes:
    return json.dumps(whatsapp_status_payload([{"id": message_id, "status": name, "timestamp": "1764050000",
                                                "recipient_id": "6281250000001", **extra}])).encode()


# --- the webhook, over real HTTP ----------------------------------------------------------------------

def test_meta_verifies_the_webhook_with_our_verify_token(graph_stub, live_server):
    url = f"{live_server}/webhooks/whatsapp"
    ok = requests.get(url, params={"hub.mode": "subscribe", "hub.verify_token": WHATSAPP_VERIFY_TOKEN,
                                   "hub.challenge": "1158201444"}, timeout=10)
    assert (ok.status_code, ok.text) == (200, "1158201444")
    wrong = requests.get(url, params={"hub.mode": "subscribe", "hub.verify_token": "guess",
                                      "hub.challenge": "1158201444"}, timeout=10)
    assert wrong.status_code == 403 and wrong.text != "1158201444"


def test_without_a_verify_token_configured_nobody_can_subscribe(app, live_server):
    app.config["WHATSAPP_VERIFY_TOKEN"] = ""
    answer = requests.get(f"{live_server}/webhooks/whatsapp",
                          params={"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}, timeout=10)
    assert answer.status_code == 403


def test_signed_status_updates_move_a_message_forward_only(graph_stub, live_server, make_member):
    nid = queue(make_member())
    sender.send_due()
    message_id = row(nid).provider_message_id
    url = f"{live_server}/webhooks/whatsapp"
    for name in ("delivered", "read", "delivered", "sent"):  # repeats and late arrivals change nothing
        body = status(message_id, name)
        assert requests.post(url, data=body, headers=signed(body), timeout=10).status_code == 200
        if name == "delivered" and row(nid).status != READ:
            assert row(nid).status == DELIVERED
    assert row(nid).status == READ


def test_a_status_with_a_bad_or_missing_signature_is_refused_and_changes_nothing(graph_stub, live_server, make_member):
    nid = queue(make_member())
    sender.send_due()
    body = status(row(nid).provider_message_id, "failed")
    url = f"{live_server}/webhooks/whatsapp"
    assert requests.post(url, data=body, headers=signed(body, "another-secret"), timeout=10).status_code == 403
    assert requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=10).status_code == 403
    tampered = body.replace(b'"failed"', b'"read"')
    assert requests.post(url, data=tampered, headers=signed(body), timeout=10).status_code == 403
    assert row(nid).status == SENT


def test_a_failed_delivery_shows_up_for_staff(graph_stub, live_server, client, make_member, login_as):
    nid = queue(make_member())
    sender.send_due()
    body = status(row(nid).provider_message_id, "failed",
                  errors=[{"code": 131026, "title": "Message undeliverable",
                           "error_data": {"details": "Recipient is not on WhatsApp"}}])
    assert requests.post(f"{live_server}/webhooks/whatsapp", data=body, headers=signed(body), timeout=10).status_code == 200
    assert row(nid).status == FAILED and "131026 Message undeliverable" in row(nid).last_error
    login_as("kasir")
    page = client.get("/gerai/pesan").get_data(as_text=True)
    assert "Message undeliverable" in page and "Keripik Pisang" in page


# --- staff: one tap per message on wa.me ------------------------------------------------------------------

def test_a_tap_marks_the_message_sent_and_opens_wa_me_with_the_text(client, make_member, login_as):
    member = make_member(whatsapp="0812 5000 0001")
    nid = queue(member)
    kasir = login_as("kasir")
    listing = client.get("/gerai/pesan")
    assert listing.status_code == 200 and row(nid).status == MANUAL_PENDING  # looking changes nothing
    answer = client.post(f"/gerai/pesan/{nid}/kirim")
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"https://wa.me/6281250000001?text={quote(row(nid).text)}"
    assert (row(nid).status, row(nid).sent_by_id) == (MANUAL_SENT, kasir.id)
    again = client.post(f"/gerai/pesan/{nid}/kirim", follow_redirects=True)  # a double tap, or a colleague
    assert "already sent" in again.get_data(as_text=True) or "sudah dikirim" in again.get_data(as_text=True)
    assert "Keripik Pisang" not in client.get("/gerai/pesan").get_data(as_text=True)


def test_two_taps_at_once_open_whatsapp_once(client, make_member, login_as, send_twice):
    nid = queue(make_member())
    login_as("kasir")
    answers = send_twice(client, f"/gerai/pesan/{nid}/kirim", {}, at_once_=True)
    assert sorted(location.startswith("https://wa.me/") for _status, location in answers) == [False, True]


# --- the member's inbox and choices -------------------------------------------------------------------------

def test_the_member_sees_her_notifications_on_the_dashboard_and_in_the_inbox(client, make_member, login_as):
    member = make_member(owner_name="Acil")
    queue(member)
    login_as("member", member)
    dashboard = client.get("/dasbor").get_data(as_text=True)
    assert "Halo Acil, stok Keripik Pisang di gerai tinggal 2" in dashboard
    inbox = client.get("/saya/pemberitahuan").get_data(as_text=True)
    assert "Keripik Pisang" in inbox and "1 belum dibaca" in inbox
    client.post("/saya/pemberitahuan/dibaca")
    assert "0 belum dibaca" in client.get("/saya/pemberitahuan").get_data(as_text=True)


def test_another_members_notifications_never_show(client, make_member, login_as):
    queue(make_member(owner_name="Galuh"))
    login_as("member")
    assert "Galuh" not in client.get("/saya/pemberitahuan").get_data(as_text=True)


def test_the_member_chooses_what_comes_on_whatsapp(client, make_member, login_as):
    member = login_as("member")
    answer = client.post("/saya/pemberitahuan/pengaturan", data={"sold": "y", "sold_mode": "daily",
                                                                  "low_stock_threshold": "5", "statement_paid": "y"})
    assert answer.status_code == 302
    prefs = notify.preferences(member.user_id)
    assert (prefs.whatsapp_events, prefs.sold_mode, prefs.low_stock_threshold) == (
        {m.SOLD, m.STATEMENT_PAID}, "daily", 5)
    page = client.get("/saya/pemberitahuan/pengaturan").get_data(as_text=True)
    assert 'value="5"' in page
    refused = client.post("/saya/pemberitahuan/pengaturan", data={"sold_mode": "daily", "low_stock_threshold": "-1"})
    assert refused.status_code == 400 and notify.preferences(member.user_id).low_stock_threshold == 5
