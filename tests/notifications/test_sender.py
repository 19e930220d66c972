"""The sender drives real HTTP calls against a local stand-in of the Graph API (tests/conftest.py GraphStub)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from marketplace.extensions import db
from marketplace.timeutil import utcnow
from notifications import messages as m
from notifications import sender, services as notify
from notifications.models import CHANNEL_WHATSAPP, FAILED, PENDING, SENDING, SENT, Notification
from tests.conftest import WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_TOKEN, whatsapp_status_payload


def queue(member, n: int = 1) -> list[int]:
    for i in range(n):
        notify.enqueue(f"low:{member.id}:{i}", m.LOW_STOCK, [member.owner_name, f"Keripik {i}", 2],
                       user_id=member.user_id, phone=member.whatsapp)
    db.session.commit()
    return list(db.session.scalars(select(Notification.id).order_by(Notification.id)))


def row(notification_id: int) -> Notification:
    db.session.expire_all()
    return db.session.get(Notification, notification_id)


def test_with_api_keys_a_message_goes_out_as_an_indonesian_template_with_its_key(graph_stub, make_member):
    member = make_member(owner_name="Acil Bariah", whatsapp="0812 5000 0001")
    [nid] = queue(member)
    assert row(nid).channel == CHANNEL_WHATSAPP and row(nid).status == PENDING
    run = sender.send_due()
    assert (run.sent, run.retried, run.failed) == (1, 0, 0)
    [request] = graph_stub.requests
    assert request["path"] == f"/v21.0/{WHATSAPP_PHONE_NUMBER_ID}/messages"
    assert request["authorization"] == f"Bearer {WHATSAPP_TOKEN}"
    assert request["body"] == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": "6281250000001", "type": "template",
        "template": {"name": "pasar_stok_menipis", "language": {"code": "id"}, "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "Acil Bariah"},
                                            {"type": "text", "text": "Keripik 0"}, {"type": "text", "text": "2"}]}]},
        "biz_opaque_callback_data": f"low:{member.id}:0"}
    sent = row(nid)
    assert (sent.status, sent.provider_message_id, sent.attempts) == (SENT, "wamid.TEST1", 1)
    assert sender.send_due().sent == 0 and len(graph_stub.requests) == 1  # never twice


def test_a_goods_sold_message_queued_before_sales_were_grouped_goes_out_under_its_old_template(graph_stub,
                                                                                               make_member):
    """Rows queued by the previous version (one per sale line, five parameters) keep their registered template."""
    member = make_member()
    notify.enqueue("sale:41", m.SOLD, [member.owner_name, 2, "Keripik", "Rp30.000", "Rp25.500"],
                   user_id=member.user_id, phone=member.whatsapp)
    db.session.commit()
    assert sender.send_due().sent == 1
    [request] = graph_stub.requests
    template = request["body"]["template"]
    assert template["name"] == "pasar_barang_terjual"
    assert [p["text"] for p in template["components"][0]["parameters"]] == [member.owner_name, "2", "Keripik",
                                                                            "Rp30.000", "Rp25.500"]
    notify.enqueue("sale:7:1", m.SOLD, [member.owner_name, "2 × Keripik", "Rp30.000", "Rp25.500"],
                   user_id=member.user_id, phone=member.whatsapp)
    db.session.commit()
    assert sender.send_due().sent == 1
    assert graph_stub.requests[1]["body"]["template"]["name"] == m.TEMPLATES[m.SOLD].name != "pasar_barang_terjual"


def test_a_500_is_retried_after_a_growing_pause(graph_stub, make_member):
    [nid] = queue(make_member())
    graph_stub.answers = [("500",), ("500",)]
    now = utcnow()
    assert sender.send_due(now=now).retried == 1
    assert row(nid).next_attempt_at == now + timedelta(seconds=30) and "HTTP 500" in row(nid).last_error
    assert sender.send_due(now=now + timedelta(seconds=10)).retried == 0  # not due yet: no request
    assert len(graph_stub.requests) == 1
    later = now + timedelta(seconds=31)
    assert sender.send_due(now=later).retried == 1
    assert row(nid).next_attempt_at == later + timedelta(seconds=60)  # doubled
    assert sender.send_due(now=later + timedelta(seconds=61)).sent == 1
    assert (row(nid).status, row(nid).attempts, len(graph_stub.requests)) == (SENT, 3, 3)


def test_a_429_waits_as_long_as_retry_after_says(graph_stub, make_member):
    [nid] = queue(make_member())
    graph_stub.answers = [("429", 120)]
    now = utcnow()
    sender.send_due(now=now)
    assert row(nid).status == PENDING and row(nid).next_attempt_at == now + timedelta(seconds=120)
    assert sender.send_due(now=now + timedelta(seconds=119)).sent == 0
    assert sender.send_due(now=now + timedelta(seconds=121)).sent == 1


def test_after_a_timeout_the_webhook_of_the_first_send_stops_the_retry(app, graph_stub, make_member):
    """A read timeout is ambiguous: Meta may have the message. The retry waits WHATSAPP_RECHECK_SECONDS,
    and the `sent` status naming our key (biz_opaque_callback_data) marks it sent: it is not sent again."""
    [nid] = queue(make_member())
    graph_stub.answers = [("timeout", 2.5)]
    now = utcnow()
    run = sender.send_due(now=now)
    assert run.retried == 1 and row(nid).next_attempt_at >= now + timedelta(seconds=300)
    key = row(nid).key
    notify.apply_statuses(whatsapp_status_payload([{"id": "wamid.FIRST", "status": "sent", "timestamp": "1764050000",
                                                    "recipient_id": row(nid).phone,
                                                    "biz_opaque_callback_data": key}]))
    assert (row(nid).status, row(nid).provider_message_id) == (SENT, "wamid.FIRST")
    assert sender.send_due(now=now + timedelta(seconds=301)).sent == 0
    assert len(graph_stub.requests) == 1


def test_after_a_timeout_without_word_from_meta_it_is_sent_again_later(graph_stub, make_member):
    [nid] = queue(make_member())
    graph_stub.answers = [("timeout", 2.5)]
    now = utcnow()
    sender.send_due(now=now)
    assert sender.send_due(now=now + timedelta(seconds=301)).sent == 1
    assert row(nid).status == SENT and len(graph_stub.requests) == 2


def test_an_undeliverable_number_fails_at_once_and_shows_for_staff(graph_stub, make_user, make_member):
    [nid] = queue(make_member())
    graph_stub.answers = [("400", 131026)]
    assert sender.send_due().failed == 1
    failed = row(nid)
    assert failed.status == FAILED and "131026" in failed.last_error and "not on WhatsApp" in failed.last_error
    assert [n.id for n in notify.failed_messages(make_user("kasir"))] == [nid]


def test_it_gives_up_after_the_last_attempt(app, graph_stub, make_member):
    app.config["NOTIFY_MAX_ATTEMPTS"] = 2
    [nid] = queue(make_member())
    graph_stub.answers = [("500",), ("500",)]
    now = utcnow()
    sender.send_due(now=now)
    assert sender.send_due(now=now + timedelta(seconds=31)).failed == 1
    assert row(nid).status == FAILED


def test_two_senders_at_once_send_every_message_exactly_once(graph_stub, make_member, at_once):
    ids = queue(make_member(), 12)
    graph_stub.delay_seconds = 0.05  # each call takes a moment, so the two senders overlap

    def one_sender():
        run = sender.send_due()
        return run.sent

    results = at_once(one_sender, one_sender)
    assert sum(results) == 12, results
    keys = graph_stub.sent_keys()
    assert len(keys) == 12 and len(set(keys)) == 12
    assert {row(i).status for i in ids} == {SENT}


def test_a_message_left_sending_by_a_stopped_sender_is_not_sent_again_but_shown_to_staff(graph_stub, make_member):
    [nid] = queue(make_member())
    db.session.execute(update(Notification).where(Notification.id == nid).values(
        status=SENDING, claim_token="x" * 32, lease_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    run = sender.send_due()
    assert (run.lost_leases, run.sent) == (1, 0) and graph_stub.requests == []
    assert row(nid).status == FAILED and "not known whether WhatsApp received it" in row(nid).last_error


def test_staff_send_a_failed_message_again(graph_stub, make_user, make_member):
    [nid] = queue(make_member())
    graph_stub.answers = [("400", 131026)]
    sender.send_due()
    notify.send_again(make_user("kasir"), nid)
    assert row(nid).status == PENDING and row(nid).attempts == 0
    assert sender.send_due().sent == 1


def test_the_command_sends_once_and_says_what_it_did(runner, graph_stub, make_member):
    queue(make_member(), 2)
    result = runner.invoke(args=["send-notifications"])
    assert result.exit_code == 0, result.output
    assert "sent 2" in result.output and len(graph_stub.requests) == 2


def test_the_command_run_once_also_queues_the_calendar_notifications(runner, make_user, make_member,
                                                                      make_product, make_lot):
    """`flask --app wsgi send-notifications` from cron: the scan (expiring goods, daily summaries) runs too."""
    from consignment import services as gerai
    from consignment.models import Sale
    from marketplace.timeutil import local_today

    kasir, member = make_user("kasir"), make_member()
    notify.save_preferences(member.user, list(m.CHOOSABLE), "daily", 0)
    make_lot(make_product(member, name="Bingka Kentang"), quantity=4, kasir=kasir,
             expiry_date=local_today() + timedelta(days=3))
    sale = gerai.record_counter_sale(kasir, [gerai.LineRequest(make_lot(make_product(member), kasir=kasir).id, 1)],
                                     "cash")
    yesterday = utcnow() - timedelta(days=1)  # sold, and she was told in her inbox, yesterday
    db.session.execute(update(Sale).where(Sale.id == sale.id).values(created_at=yesterday))
    db.session.execute(update(Notification).where(Notification.key.like(f"sale:{sale.id}:%")).values(created_at=yesterday))
    db.session.commit()
    result = runner.invoke(args=["send-notifications"])
    assert result.exit_code == 0, result.output
    assert "Queued 2;" in result.output
    db.session.expire_all()
    events = set(db.session.scalars(select(Notification.event).where(Notification.user_id == member.user_id)))
    assert {m.EXPIRING, m.SOLD_DAILY} <= events


def test_without_api_keys_the_command_sends_nothing_and_says_where_messages_wait(runner, make_member):
    queue(make_member())
    result = runner.invoke(args=["send-notifications"])
    assert result.exit_code == 0 and "not configured" in result.output


def test_the_worker_sends_as_messages_arrive_and_stops_cleanly_on_sigterm(app, graph_stub, make_member, tmp_path):
    """`flask --app wsgi send-notifications --loop` as systemd runs it: a separate process on the same database."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    [nid] = queue(make_member())
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "INSTANCE_PATH": str(tmp_path),
           "MEDIA_ROOT": str(tmp_path / "media"), "SEARCH_INDEX_DIR": str(tmp_path / "index"),
           "WHATSAPP_TOKEN": WHATSAPP_TOKEN, "WHATSAPP_PHONE_NUMBER_ID": WHATSAPP_PHONE_NUMBER_ID,
           "WHATSAPP_API_BASE_URL": graph_stub.url, "WHATSAPP_API_VERSION": "v21.0"}
    worker = subprocess.Popen([str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "send-notifications",
                               "--loop", "--interval", "0.2"], cwd=root, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    def sent(notification_id) -> bool:
        """Whether the worker recorded the message as sent, waiting for it up to the deadline: the stub sees
        the request before the worker has written the answer down (CI once looked in between)."""
        while row(notification_id).status != SENT and time.monotonic() < deadline:
            time.sleep(0.1)
        return row(notification_id).status == SENT

    try:
        deadline = time.monotonic() + 30
        assert sent(nid)
        [second] = queue(make_member())[1:]  # a message queued while the worker runs
        assert sent(second)
    finally:
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0, output
    assert graph_stub.sent_keys() == [row(nid).key, row(second).key]


def test_a_long_run_claims_each_message_with_a_lease_from_the_moment_it_is_claimed(graph_stub, make_member,
                                                                                  monkeypatch):
    """A run that outlives one lease (slow answers, a backlog) must not hand out leases already over: a cron
    run starting meanwhile would mark the message in hand failed, and staff would send it again."""
    ids = queue(make_member(), 3)
    start, clock = utcnow(), {"calls": 0}

    def slow_clock():  # each reading of the clock is 20 s after the one before (a lease lasts 60 s)
        clock["calls"] += 1
        return start + timedelta(seconds=20 * clock["calls"])

    monkeypatch.setattr(sender, "utcnow", slow_clock)
    leases_ahead = []
    deliver = sender.deliver

    def watching_deliver(notification_id, token, *args):
        leases_ahead.append(row(notification_id).lease_until > start + timedelta(seconds=20 * clock["calls"]))
        return deliver(notification_id, token, *args)

    monkeypatch.setattr(sender, "deliver", watching_deliver)
    assert sender.send_due().sent == 3
    assert leases_ahead == [True, True, True]
    assert [row(nid).status for nid in ids] == [SENT, SENT, SENT]
