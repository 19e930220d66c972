"""The sender: delivers the outbox's WhatsApp rows through the Cloud API.

Never one message twice:
- a row is CLAIMED with a compare-and-set (pending → sending, with a lease and a claim token) in its own
  committed transaction before any HTTP call, so of two senders running at once exactly one gets it;
- the outcome is recorded with a compare-and-set on (sending, our claim token);
- a row whose lease ran out while `sending` (the sender died mid-call) is NOT sent again: nobody knows
  whether WhatsApp received it, so it becomes `failed` with that said, for staff to decide;
- a read timeout is ambiguous (Meta may have the message): the retry waits at least
  WHATSAPP_RECHECK_SECONDS, and the `sent` webhook of the first try — which carries our key in
  biz_opaque_callback_data — marks the row sent meanwhile, so the retry never happens.
Retries back off exponentially (NOTIFY_RETRY_BASE_SECONDS × 2^(attempt-1), at most an hour), honour a 429's
Retry-After, and give up after NOTIFY_MAX_ATTEMPTS (the row shows up for staff as failed).
"""
from __future__ import annotations

import json
import logging
import secrets
import signal
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import requests
from flask import current_app
from sqlalchemy import select, update

from marketplace.extensions import db
from marketplace.timeutil import utcnow
from marketplace.transaction import transaction

from . import services, whatsapp
from .models import CHANNEL_WHATSAPP, PENDING, SENDING, TRANSITIONS, Notification

log = logging.getLogger(__name__)
MAX_DELAY_SECONDS = 3600
LEASE_LOST = ("The sender stopped while sending this message: it is not known whether WhatsApp received it. "
              "Check with the member, then send it again or by hand.")


@dataclass
class SendRun:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    lost_leases: int = 0
    errors: list[str] = field(default_factory=list)


def _lease_seconds(config) -> float:
    return max(60.0, 3 * config["WHATSAPP_TIMEOUT"])


def backoff_seconds(attempt: int, base: float) -> float:
    return min(MAX_DELAY_SECONDS, base * 2 ** max(0, attempt - 1))


def release_lost_leases(now: datetime) -> int:
    """Rows left `sending` by a sender that died: failed, for staff to decide (never re-sent blindly)."""
    with transaction():
        starts, to = TRANSITIONS["lease_lost"]
        return db.session.execute(update(Notification).where(Notification.status.in_(starts),
                                                             Notification.lease_until < now)
                                  .values(status=to, last_error=LEASE_LOST, updated_at=now, claim_token=None)
                                  .execution_options(synchronize_session=False)).rowcount


def claim_next(now: datetime) -> tuple[int, str] | None:
    """Claim one due row: (id, claim token), or None when nothing is due. Committed before any HTTP call."""
    lease = timedelta(seconds=_lease_seconds(current_app.config))
    candidates = list(db.session.scalars(
        select(Notification.id).where(Notification.channel == CHANNEL_WHATSAPP, Notification.status == PENDING,
                                      Notification.next_attempt_at <= now)
        .order_by(Notification.next_attempt_at, Notification.id).limit(10)))
    db.session.rollback()  # end the read; each claim below is its own short write transaction
    for notification_id in candidates:
        token = secrets.token_hex(16)
        with transaction():
            won = services.move(notification_id, "claim", lease_until=now + lease, claim_token=token,
                                attempts=Notification.attempts + 1)
        if won:
            return notification_id, token
    return None


def _finish(notification_id: int, token: str, action: str, **values) -> bool:
    starts, to = TRANSITIONS[action]
    with transaction():
        return db.session.execute(update(Notification).where(
            Notification.id == notification_id, Notification.status.in_(starts), Notification.claim_token == token)
            .values(status=to, updated_at=utcnow(), lease_until=None, **values)
            .execution_options(synchronize_session=False)).rowcount == 1


def deliver(notification_id: int, token: str, session: requests.Session, now: datetime, run: SendRun) -> None:
    config = current_app.config
    row = db.session.execute(select(Notification.phone, Notification.event, Notification.params, Notification.key,
                                    Notification.attempts).where(Notification.id == notification_id)).one()
    db.session.rollback()
    outcome = whatsapp.send_template(config, session, row.phone, row.event, json.loads(row.params), row.key)
    if outcome.accepted:
        _finish(notification_id, token, "accepted", provider_message_id=outcome.message_id, sent_at=utcnow(),
                last_error="")
        run.sent += 1
        return
    run.errors.append(f"#{notification_id}: {outcome.error}")
    if outcome.retry and row.attempts < config["NOTIFY_MAX_ATTEMPTS"]:
        delay = backoff_seconds(row.attempts, config["NOTIFY_RETRY_BASE_SECONDS"])
        if outcome.retry_after is not None:
            delay = max(delay, min(outcome.retry_after, MAX_DELAY_SECONDS))
        if outcome.ambiguous:  # give the webhook of a send that did arrive the time to say so
            delay = max(delay, config["WHATSAPP_RECHECK_SECONDS"])
        _finish(notification_id, token, "retry_later", next_attempt_at=now + timedelta(seconds=delay),
                last_error=outcome.error)
        run.retried += 1
    else:
        _finish(notification_id, token, "give_up", last_error=outcome.error)
        run.failed += 1


def send_due(limit: int = 100, now: datetime | None = None, session: requests.Session | None = None) -> SendRun:
    """Deliver up to `limit` due messages, one at a time. `now` lets tests move the clock."""
    run = SendRun()
    if not services.whatsapp_configured():
        return run
    fixed = now  # None: the real clock, read again for each message (a long run's leases stay ahead of it)
    run.lost_leases = release_lost_leases(fixed or utcnow())
    session = session or requests.Session()
    for _i in range(limit):
        claimed = claim_next(fixed or utcnow())
        if claimed is None:
            break
        deliver(*claimed, session, fixed or utcnow(), run)
    return run


def run_forever(interval: float, scan_minutes: float, echo=print) -> None:
    """The long-running worker: send what is due every `interval` seconds, scan the calendar events every
    `scan_minutes`. SIGTERM/SIGINT stop it after the message in hand."""
    stopping = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_args: stopping.append(True))
    session, last_scan = requests.Session(), 0.0
    while not stopping:
        try:
            if time.monotonic() - last_scan >= scan_minutes * 60:
                queued = services.scan()
                last_scan = time.monotonic()
                if queued:
                    echo(f"Queued {queued} notifications (expiring, aging, daily summaries).")
            run = send_due(session=session)
            if run.sent or run.retried or run.failed or run.lost_leases:
                echo(f"Sent {run.sent}, will retry {run.retried}, failed {run.failed}, "
                     f"unknown after a stopped sender {run.lost_leases}.")
        except Exception:  # noqa: BLE001 - a database hiccup must not end the worker
            log.exception("sending notifications failed; trying again")
            db.session.rollback()
        finally:
            db.session.remove()
        for _i in range(int(interval * 10)):
            if stopping:
                break
            time.sleep(0.1)
