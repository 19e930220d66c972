"""The WhatsApp Business Cloud API boundary: sending an approved template, and checking a webhook's
signature. Everything Meta-specific lives here.

Request (Graph API):  POST {WHATSAPP_API_BASE_URL}/{WHATSAPP_API_VERSION}/{WHATSAPP_PHONE_NUMBER_ID}/messages
    Authorization: Bearer {WHATSAPP_TOKEN}
    {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "6281…", "type": "template",
     "template": {"name": "pasar_barang_terjual_v2", "language": {"code": "id"},
                  "components": [{"type": "body", "parameters": [{"type": "text", "text": "…"}, …]}]},
     "biz_opaque_callback_data": "<our notification key>"}
Answer 200: {"messaging_product": "whatsapp", "contacts": [{"input": "…", "wa_id": "…"}],
             "messages": [{"id": "wamid.…", "message_status": "accepted"}]}
Errors: {"error": {"message": "…", "type": "…", "code": 131030, "error_data": {"details": "…"}, "fbtrace_id": "…"}}

The Cloud API has no idempotency key. `biz_opaque_callback_data` is the nearest thing: Meta hands it back
in every status webhook of that message, so a send whose answer was lost (a read timeout) is recognised
when its `sent` status arrives, and is not sent again (see sender.py).
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

import requests

from . import messages as m

# Graph error codes that mean "later", not "never" (rate limits, temporary trouble at Meta).
RETRYABLE_CODES = {1, 2, 4, 17, 32, 613, 80007, 130429, 131000, 131016, 131048, 131056, 133004}


@dataclass(frozen=True)
class Outcome:
    accepted: bool
    message_id: str = ""
    retry: bool = False  # worth trying again later
    ambiguous: bool = False  # the request may have reached Meta (its answer was lost)
    retry_after: float | None = None  # seconds, from a 429's Retry-After
    error: str = ""


def request_body(to: str, event: str, params: list[str], key: str) -> dict:
    template = m.template_for(event, len(params))
    return {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "template",
        "template": {"name": template.name, "language": {"code": "id"},
                     "components": [{"type": "body",
                                     "parameters": [{"type": "text", "text": str(p)} for p in params]}]},
        "biz_opaque_callback_data": key,
    }


def _retry_after(response) -> float | None:
    raw = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None


def _error(response) -> tuple[int | None, str]:
    try:
        error = response.json().get("error") or {}
    except ValueError:
        return None, f"HTTP {response.status_code}"
    details = (error.get("error_data") or {}).get("details") if isinstance(error.get("error_data"), dict) else ""
    text = " ".join(str(x) for x in (f"HTTP {response.status_code}", error.get("code", ""), error.get("message", ""),
                                     details or "") if x)
    return error.get("code"), text[:1000]


def send_template(config: dict, session: requests.Session, to: str, event: str, params: list[str], key: str) -> Outcome:
    url = "{}/{}/{}/messages".format(config["WHATSAPP_API_BASE_URL"].rstrip("/"), config["WHATSAPP_API_VERSION"],
                                     config["WHATSAPP_PHONE_NUMBER_ID"])
    timeout = config["WHATSAPP_TIMEOUT"]
    try:
        response = session.post(url, json=request_body(to, event, params, key), timeout=(min(timeout, 5), timeout),
                                headers={"Authorization": f"Bearer {config['WHATSAPP_TOKEN']}"})
    except requests.ConnectTimeout:  # never reached Meta
        return Outcome(False, retry=True, error="connect timeout")
    except requests.RequestException as exc:  # a read timeout or a dropped connection: maybe sent
        return Outcome(False, retry=True, ambiguous=True, error=f"{type(exc).__name__}: no answer from WhatsApp"[:1000])
    if response.status_code == 429:
        return Outcome(False, retry=True, retry_after=_retry_after(response), error=_error(response)[1])
    if response.status_code >= 500:
        code, text = _error(response)
        return Outcome(False, retry=True, retry_after=_retry_after(response), error=text)
    if 200 <= response.status_code < 300:
        try:
            message_id = str(response.json()["messages"][0]["id"])
        except (ValueError, KeyError, IndexError, TypeError):
            return Outcome(False, retry=True, ambiguous=True, error="an answer without a message id")
        return Outcome(True, message_id=message_id[:128])
    code, text = _error(response)
    return Outcome(False, retry=code in RETRYABLE_CODES, retry_after=_retry_after(response), error=text)


def signature_ok(raw_body: bytes, header: str | None, app_secret: str) -> bool:
    """X-Hub-Signature-256 is "sha256=" + the hex HMAC-SHA256 of the raw body under the app secret."""
    if not app_secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header[len("sha256="):].strip().lower())


def verify_token_ok(given: str, expected: str) -> bool:
    """Meta's GET subscription check: hub.verify_token equals WHATSAPP_VERIFY_TOKEN (constant time)."""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())
