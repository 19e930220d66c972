"""Audit trail: domain services call record_event inside their own transaction.

An event stores its action code ("sale.record") and its parameters as JSON; the audit page turns them into
a sentence in the reader's language ("Sari menjual 3 × Keripik Pisang Kepok (lot PYL8YB), Rp45.000"), so a
pengawas can read it. `summary` keeps a plain technical note; rows written before parameters existed
(params "") are shown by it.
"""
from __future__ import annotations

import json

from flask import has_request_context, request
from marketplace.i18n import gettext as _
from marketplace.i18n import lazy_gettext as _l

from .extensions import db
from .models import AuditEvent, User


def record_event(actor: User | None, action: str, obj, summary: str = "", **params) -> AuditEvent:
    """Add an audit event to the current session; the calling service commits it with its change.
    `params` (plain values: text, numbers, dates, lists) fill the action's sentence in SENTENCES."""
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        action=action,
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=getattr(obj, "id", None),
        summary=summary[:2000],
        params=json.dumps(params, ensure_ascii=False, default=str) if params else "",
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    return event


# action -> the sentence shown (placeholders: %(actor)s and the event's params)
SENTENCES = {
    "sale.record": _l("%(actor)s sold %(items)s, %(total)s"),
    "sale.offline": _l("%(actor)s sold %(items)s offline, %(total)s (sale %(number)s)"),
    "sale.offline_refused": _l("%(actor)s synced a sale made offline at %(when)s that was refused (%(reason)s): "
                               "%(lines)s. It stays on the phone to send again or discard."),
    "stock.discrepancy": _l("%(actor)s sold %(quantity)s × %(product)s (lot %(lot)s) offline beyond the stock on hand (sale %(number)s)"),
    "stock.discrepancy_resolve": _l("%(actor)s resolved the stock discrepancy of %(quantity)s × %(product)s (lot %(lot)s, sale %(number)s): %(reason)s"),
    "sale.void": _l("%(actor)s voided sale %(number)s (%(total)s): %(reason)s"),
    "lot.receive": _l("%(actor)s received %(quantity)s × %(product)s (lot %(lot)s) at %(price)s each"),
    "stock.adjust": _l("%(actor)s took %(quantity)s × %(product)s (lot %(lot)s) off the stock: %(reason)s"),
    "stock.return": _l("%(actor)s returned %(items)s to %(member)s (slip %(number)s)"),
    "product.create": _l("%(actor)s added the product %(product)s at %(price)s"),
    "product.update": _l("%(actor)s changed the product %(product)s (price %(price)s)"),
    "product.status": _l("%(actor)s set the product %(product)s to %(status)s"),
    "product.photo_move": _l("%(actor)s changed the order of the photos of %(product)s"),
    "product.photo_delete": _l("%(actor)s removed a photo of %(product)s"),
    "product.import": _l("%(actor)s imported products of %(member)s from %(file)s: %(created)s new, %(updated)s "
                         "updated, %(skipped)s rows skipped"),
    "category.create": _l("%(actor)s added the category %(name)s"),
    "category.rename": _l("%(actor)s renamed the category %(before)s to %(name)s"),
    "user.create": _l("%(actor)s made an account for %(name)s (%(role)s)"),
    "user.activate": _l("%(actor)s switched the account of %(name)s on"),
    "user.deactivate": _l("%(actor)s switched the account of %(name)s off: %(reason)s"),
    "user.password_change": _l("%(actor)s changed their password"),
    "user.password_reset_link": _l("%(actor)s made a password link for %(name)s"),
    "user.password_reset": _l("%(actor)s set a new password with a link"),
    "member.create": _l("%(actor)s added the member %(member)s"),
    "member.update": _l("%(actor)s changed the details of the member %(member)s"),
    "agreement.create": _l("%(actor)s made a consignment agreement with %(member)s: commission %(commission)s"),
    "cooperative.update": _l("%(actor)s changed the cooperative settings"),
    "settlement.open": _l("%(actor)s opened a settlement period up to %(cutoff)s"),
    "settlement.close": _l("%(actor)s closed the settlement period up to %(cutoff)s: %(members)s members, %(payable)s to pay"),
    "payout.paid": _l("%(actor)s paid %(amount)s to %(member)s (%(method)s)"),
    "qris.start": _l("%(actor)s showed a QRIS code %(number)s for %(total)s (the goods are held)"),
    "qris.expired": _l("%(actor)s: QRIS %(number)s (%(total)s) expired unpaid; the goods are back on the shelf"),
    "qris.cancelled": _l("%(actor)s cancelled QRIS %(number)s (%(total)s); the goods are back on the shelf"),
    "qris.refund_needed": _l("%(actor)s: QRIS %(number)s (%(total)s) was paid after it ended; the shopper needs a refund"),
    "qris.refunded": _l("%(actor)s refunded QRIS %(number)s (%(total)s) to the shopper: %(note)s"),
    "qris.failed": _l("%(actor)s: QRIS %(number)s (%(total)s) failed; the goods are back on the shelf"),
    "order.place": _l("%(actor)s took online order %(number)s, %(total)s"),
    "order.paid": _l("%(actor)s recorded the payment of online order %(number)s, %(total)s"),
    "order.refund_needed": _l("%(actor)s: online order %(number)s was paid after it lapsed; the shopper needs a refund"),
    "order.ready": _l("%(actor)s marked online order %(number)s ready"),
    "order.completed": _l("%(actor)s completed online order %(number)s, %(total)s"),
    "order.cancel": _l("%(actor)s cancelled online order %(number)s: %(reason)s"),
    "site.page": _l("%(actor)s edited the page %(title)s"),
    "site.board": _l("%(actor)s saved the board member %(name)s"),
    "site.board_delete": _l("%(actor)s removed the board member %(name)s"),
    "site.news": _l("%(actor)s saved the news post %(title)s"),
    "join.request": _l("%(business)s (%(owner)s) asked on the website to join the gerai"),
    "join.approve": _l("%(actor)s approved the join request of %(business)s; the member account was made"),
    "join.decline": _l("%(actor)s declined the join request of %(business)s: %(reason)s"),
    "data.export": _l("%(actor)s downloaded the cooperative's data (%(format)s)"),
}

# The audit page's filter: plain-language groups of actions (value -> label, action prefixes)
ACTION_GROUPS = {
    "penjualan": (_l("Sales at the counter"), ("sale.", "qris.")),
    "pesanan": (_l("Online orders"), ("order.",)),
    "stok": (_l("Stock: intake, returns, adjustments"), ("lot.", "stock.")),
    "penyelesaian": (_l("Settlements and payouts"), ("settlement.", "payout.")),
    "produk": (_l("Products and categories"), ("product.", "category.")),
    "akun": (_l("Accounts, members and agreements"), ("user.", "member.", "agreement.", "join.")),
    "situs": (_l("Website and cooperative settings"), ("site.", "cooperative.", "data.")),
}

_MONEY = {"total", "price", "amount", "payable"}


def _shown(key: str, value):
    from .money import format_rupiah

    if key in _MONEY and isinstance(value, int):
        return format_rupiah(value)
    if key == "items":  # [(quantity, product, lot code), ...]
        return ", ".join(_("%(n)s × %(product)s (lot %(lot)s)", n=n, product=product, lot=lot)
                         for n, product, lot in value)
    if key == "role":
        from .models import ROLE_LABELS

        return str(ROLE_LABELS.get(value, value))
    if key == "status":
        from catalog.models import STATUS_LABELS

        return str(STATUS_LABELS.get(value, value))
    if key == "method":
        from consignment.forms import payment_method_labels
        from settlement.forms import payout_method_labels

        return str({**payment_method_labels(), **payout_method_labels()}.get(value, value))
    return value


def describe(event: AuditEvent) -> str:
    """The event as a sentence in the reader's language ("" for rows written before parameters)."""
    sentence = SENTENCES.get(event.action)
    if not event.params or sentence is None:
        return ""
    params = json.loads(event.params)
    values = {key: _shown(key, value) for key, value in params.items()}
    if event.action == "stock.adjust":
        from consignment.models import ADJUSTMENT_REASON_LABELS

        values["quantity"] = abs(params["quantity"])
        label = ADJUSTMENT_REASON_LABELS.get(params.get("reason_code"), params.get("reason_code"))
        values["reason"] = f"{label}: {params.get('note', '')}"
        if params["quantity"] > 0:
            sentence = _l("%(actor)s added %(quantity)s × %(product)s (lot %(lot)s) to the stock: %(reason)s")
    if event.action == "stock.discrepancy_resolve" and "counted" in params:  # resolved by a count (rows since)
        sentence = _l("%(actor)s counted %(counted)s × %(product)s (lot %(lot)s) in the gerai, where the ledger "
                      "expected %(expected)s, and corrected the stock by %(correction)s (sale %(number)s): %(reason)s")
    values["actor"] = _actor_with_title(event.actor)
    try:
        return str(sentence) % values
    except (KeyError, TypeError, ValueError):  # a sentence changed since the row was written
        return ""


# who did it, as the log names them: "Kasir Sari", "Pengurus Budi"
ACTOR_TITLES = {"member": _l("Member"), "kasir": _l("Cashier"), "pengurus": _l("Pengurus"),
                "pengawas": _l("Pengawas")}


def _actor_with_title(actor) -> str:
    if actor is None:
        return _("Someone")
    from .accounts import SYSTEM_EMAIL

    title = ACTOR_TITLES.get(actor.role)
    if title is None or actor.email == SYSTEM_EMAIL:
        return actor.display_name
    return _("%(title)s %(name)s", title=title, name=actor.display_name)


def group_prefixes(group: str) -> tuple[str, ...]:
    """The action prefixes of a filter group; an unknown value is used as a prefix itself (old links)."""
    return ACTION_GROUPS[group][1] if group in ACTION_GROUPS else (group,)
