"""The Midtrans boundary. Everything Midtrans-specific, and the only place money becomes the
gateway's format, lives here.

Sharp edges of midtransclient 1.4.2 handled here (checked in its source):
- it sets no HTTP timeout: its HttpClient calls `requests.request` bare, so we swap in a session
  that always passes `timeout` — a slow gateway cannot hang a worker;
- `transactions.notification()` does not verify `signature_key`: we verify it ourselves with
  SHA-512(order_id + status_code + gross_amount + server_key), compared in constant time;
- base URLs are attributes of the client's `api_config` (class constants an instance attribute
  can shadow): that is how MIDTRANS_*_BASE_URL point it at a local stand-in in tests;
- success is `settlement`, or `capture` with fraud_status `accept` (an empty fraud_status is NOT
  success); notifications are retried and may arrive out of order, so callers always confirm
  through the status API;
- a non-JSON answer (an HTML 502 from a proxy in front of Midtrans) raises midtransclient's own
  JSONDecodeError, which is neither a ValueError nor a requests error: it is a GatewayError here;
- the status API answers `status_code` 404 for an order Midtrans never saw (the shopper never
  reached Snap): `status()` returns None, i.e. nothing was paid.
"""
from __future__ import annotations

import hashlib
import hmac

import midtransclient
import requests
from flask import current_app
from marketplace.i18n import gettext as _
from midtransclient.error_midtrans import JSONDecodeError, MidtransAPIError

from marketplace.errors import DomainError

SUCCESS, PENDING, FAILED, REFUNDED, CHALLENGE = "success", "pending", "failed", "refunded", "challenge"


class GatewayError(DomainError):
    """Midtrans could not be reached or refused the request; the order stays recoverable."""

    not_found = False


class _TimeoutRequests:
    """Stands in for the `requests` module inside midtransclient's HttpClient, adding a timeout."""

    def __init__(self, timeout: float):
        self.timeout = timeout
        self.session = requests.Session()

    def request(self, method, url, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        return self.session.request(method, url, **kwargs)


def classify(status: dict) -> str:
    """Map a Midtrans transaction status to what it means for the order."""
    transaction_status = status.get("transaction_status", "")
    fraud = status.get("fraud_status", "")
    if transaction_status == "settlement" or (transaction_status == "capture" and fraud == "accept"):
        return SUCCESS
    if transaction_status == "capture" and fraud == "challenge":
        return CHALLENGE
    if transaction_status in ("deny", "cancel", "expire", "failure"):
        return FAILED
    if transaction_status in ("refund", "partial_refund", "chargeback", "partial_chargeback"):
        return REFUNDED
    return PENDING


def gross_amount_text(amount: int) -> str:
    """Midtrans reports IDR amounts as e.g. '45000.00'."""
    return f"{amount}.00"


def amount_matches(status: dict, total: int) -> bool:
    """The status is about exactly this amount. A status without `gross_amount` matches nothing."""
    return status.get("gross_amount") in (gross_amount_text(total), str(total))


class MidtransGateway:
    def __init__(self, server_key: str, client_key: str = "", is_production: bool = False,
                 snap_base_url: str | None = None, api_base_url: str | None = None, timeout: float = 10.0):
        self.server_key = server_key
        self.client_key = client_key
        self.is_production = is_production
        self.snap = midtransclient.Snap(is_production=is_production, server_key=server_key, client_key=client_key)
        self.core = midtransclient.CoreApi(is_production=is_production, server_key=server_key, client_key=client_key)
        if snap_base_url:
            self.snap.api_config.SNAP_SANDBOX_BASE_URL = snap_base_url.rstrip("/")
            self.snap.api_config.SNAP_PRODUCTION_BASE_URL = snap_base_url.rstrip("/")
        if api_base_url:
            self.core.api_config.CORE_SANDBOX_BASE_URL = api_base_url.rstrip("/")
            self.core.api_config.CORE_PRODUCTION_BASE_URL = api_base_url.rstrip("/")
        transport = _TimeoutRequests(timeout)
        self.snap.http_client.http_client = transport
        self.core.http_client.http_client = transport

    def create_transaction(self, *, order_id: str, gross_amount: int, items: list[dict], customer: dict,
                           finish_url: str, expiry_minutes: int) -> dict:
        """Create a Snap transaction; returns {'token': ..., 'redirect_url': ...}."""
        params = {
            "transaction_details": {"order_id": order_id, "gross_amount": gross_amount},
            "item_details": items,
            "customer_details": customer,
            "callbacks": {"finish": finish_url},
            "expiry": {"unit": "minutes", "duration": expiry_minutes},
        }
        return self._call(lambda: self.snap.create_transaction(params))

    def charge_qris(self, *, order_id: str, gross_amount: int, items: list[dict], expiry_minutes: int) -> dict:
        """Core API charge with payment_type qris: the answer carries `transaction_id`, `qr_string` (what
        the QR encodes), `actions` (a generate-qr-code URL) and `expiry_time`."""
        params = {
            "payment_type": "qris",
            "transaction_details": {"order_id": order_id, "gross_amount": gross_amount},
            "item_details": items,
            "custom_expiry": {"expiry_duration": expiry_minutes, "unit": "minute"},
        }
        return self._call(lambda: self.core.charge(params))

    def cancel(self, order_id: str) -> dict:
        """Cancel a transaction that is not paid (Midtrans refuses to cancel a settled one)."""
        return self._call(lambda: self.core.transactions.cancel(order_id))

    def status(self, order_id: str) -> dict | None:
        """The transaction's status as Midtrans knows it; None if Midtrans has no such transaction."""
        try:
            return self._call(lambda: self.core.transactions.status(order_id))
        except GatewayError as exc:
            if exc.not_found:
                return None
            raise

    def signature_ok(self, notification: dict) -> bool:
        expected = hashlib.sha512((str(notification.get("order_id", "")) + str(notification.get("status_code", ""))
                                   + str(notification.get("gross_amount", "")) + self.server_key).encode()).hexdigest()
        return hmac.compare_digest(expected, str(notification.get("signature_key", "")))

    @staticmethod
    def _call(fn):
        try:
            return fn()
        except MidtransAPIError as exc:
            error = GatewayError(_("The payment service refused the request (%(code)s).",
                                   code=getattr(exc, "http_status_code", "?")))
            error.not_found = str((exc.api_response_dict or {}).get("status_code")) == "404"
            raise error from exc
        except (requests.RequestException, ValueError, JSONDecodeError) as exc:
            raise GatewayError(_("The payment service did not answer. Your order is kept; try paying again "
                                 "in a moment.")) from exc


def gateway() -> MidtransGateway | None:
    """The configured gateway, or None when MIDTRANS_SERVER_KEY is not set (pay at the gerai only)."""
    cfg = current_app.config
    if not cfg.get("MIDTRANS_SERVER_KEY"):
        return None
    cache = current_app.extensions.setdefault("midtrans", {})
    key = (cfg["MIDTRANS_SERVER_KEY"], cfg.get("MIDTRANS_CLIENT_KEY"), cfg.get("MIDTRANS_IS_PRODUCTION"),
           cfg.get("MIDTRANS_SNAP_BASE_URL"), cfg.get("MIDTRANS_API_BASE_URL"), cfg.get("MIDTRANS_TIMEOUT"))
    if cache.get("key") != key:
        cache["key"] = key
        cache["gateway"] = MidtransGateway(
            server_key=cfg["MIDTRANS_SERVER_KEY"], client_key=cfg.get("MIDTRANS_CLIENT_KEY", ""),
            is_production=cfg.get("MIDTRANS_IS_PRODUCTION", False), snap_base_url=cfg.get("MIDTRANS_SNAP_BASE_URL"),
            api_base_url=cfg.get("MIDTRANS_API_BASE_URL"), timeout=cfg.get("MIDTRANS_TIMEOUT", 10.0))
    return cache["gateway"]
