"""What one shopper may hold: limits that keep a hostile visitor from locking the shelf with unpaid orders.

Reserving stock for an order nobody pays takes it away from the counter. So (all configurable, see
marketplace/config.py):
- one order takes at most ORDER_MAX_PER_PRODUCT units of a product;
- a WhatsApp number, and a delivery address, has at most ORDER_MAX_OPEN_PER_PHONE /
  ORDER_MAX_OPEN_PER_ADDRESS unpaid orders holding stock at a time;
- one client address places at most CHECKOUT_MAX_PER_IP orders in CHECKOUT_WINDOW_MINUTES (counted
  from the orders table, so the limit holds across worker processes);
- unconfirmed unpaid orders (status pending: not yet paid online, not yet confirmed by the gerai)
  together hold at most ORDER_HOLD_SHARE_PERCENT of a product's units on the shelf (but always
  ORDER_HOLD_MIN_UNITS, so a shopper can order a product with little stock). `check_hold_share`
  runs under the lots' locks in the reserve step, so concurrent checkouts cannot exceed it;
- a pay-at-gerai order holds stock GERAI_CONFIRM_HOURS until the gerai confirms it ("ready"),
  which extends the hold to GERAI_RESERVATION_HOURS.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from flask import current_app
from marketplace.i18n import gettext as _
from sqlalchemy import func, select

from consignment.models import KIND_RELEASE, KIND_RESERVE, ConsignmentLot, StockMovement
from marketplace.errors import DomainError
from marketplace.extensions import db

from . import states
from .models import Order, OrderLine


def _cfg(name: str) -> int:
    return int(current_app.config[name])


def normalise_address(address: str) -> str:
    """Compare addresses the way a person would: case, spaces and punctuation do not matter."""
    return re.sub(r"[\W_]+", " ", (address or "").lower()).strip()


def _open_unpaid(now: datetime):
    return select(Order).where(states.unpaid_holding_clause(Order), Order.expires_at >= now)


def check_before_placing(wanted: dict[int, int], products: dict, *, phone: str, address: str, client_ip: str,
                         now: datetime) -> None:
    """The limits that do not need the lots' locks. Raises DomainError with a message for the shopper."""
    per_product = _cfg("ORDER_MAX_PER_PRODUCT")
    for product_id, quantity in wanted.items():
        if quantity > per_product:
            raise DomainError(_("At most %(n)d of %(product)s per online order. For more, ask the gerai on "
                                "WhatsApp.", n=per_product, product=products[product_id].name), field="cart")
    if client_ip:
        since = now - timedelta(minutes=_cfg("CHECKOUT_WINDOW_MINUTES"))
        recent = db.session.scalar(select(func.count(Order.id)).where(Order.client_ip == client_ip,
                                                                      Order.created_at >= since))
        if recent >= _cfg("CHECKOUT_MAX_PER_IP"):
            raise DomainError(_("Too many orders from your connection. Try again in %(n)d minutes, or order "
                                "on WhatsApp.", n=_cfg("CHECKOUT_WINDOW_MINUTES")), field="cart")
    by_phone = db.session.scalar(select(func.count()).select_from(
        _open_unpaid(now).where(Order.customer_phone == phone).subquery()))
    if by_phone >= _cfg("ORDER_MAX_OPEN_PER_PHONE"):
        raise DomainError(_("This WhatsApp number already has %(n)d unpaid orders. Pay or pick them up first, "
                            "or ask the gerai on WhatsApp.", n=by_phone), field="phone")
    if address:
        key = normalise_address(address)
        addresses = db.session.scalars(_open_unpaid(now).with_only_columns(Order.address)
                                       .where(Order.fulfilment == "delivery"))
        if sum(normalise_address(other) == key for other in addresses) >= _cfg("ORDER_MAX_OPEN_PER_ADDRESS"):
            raise DomainError(_("This address already has unpaid orders waiting. Pay or receive them first, "
                                "or ask the gerai on WhatsApp."), field="address")


def check_hold_share(wanted: dict[int, int], lots: list[ConsignmentLot], products: dict) -> None:
    """Under the lots' locks, after the new order's lines were added: refuse if unconfirmed unpaid orders
    (this one included) now hold more than their share of a product. A product's units are those on the
    shelf: on hand plus what orders hold (every movement but reservations and their releases)."""
    lot_product = {lot.id: lot.product_id for lot in lots}
    shelf: dict[int, int] = {}
    if lot_product:
        rows = db.session.execute(select(StockMovement.lot_id, func.sum(StockMovement.quantity))
                                  .where(StockMovement.lot_id.in_(lot_product),
                                         StockMovement.kind.not_in((KIND_RESERVE, KIND_RELEASE)))
                                  .group_by(StockMovement.lot_id))
        for lot_id, quantity in rows:
            shelf[lot_product[lot_id]] = shelf.get(lot_product[lot_id], 0) + int(quantity)
    held = dict(db.session.execute(
        select(OrderLine.product_id, func.sum(OrderLine.quantity)).join(Order, Order.id == OrderLine.order_id)
        .where(Order.status == states.PENDING, OrderLine.product_id.in_(wanted)).group_by(OrderLine.product_id)).all())
    share, minimum = _cfg("ORDER_HOLD_SHARE_PERCENT"), _cfg("ORDER_HOLD_MIN_UNITS")
    for product_id, quantity in wanted.items():
        allowed = max(shelf.get(product_id, 0) * share // 100, minimum)
        already = int(held.get(product_id) or 0) - quantity  # held by other orders
        if already + quantity > allowed:
            left = max(allowed - already, 0)
            product = products[product_id].name
            if left:
                raise DomainError(_("Many of %(product)s are already held by orders waiting for payment: you can "
                                    "order at most %(n)d now, or buy it at the gerai.", product=product, n=left),
                                  field="cart")
            raise DomainError(_("%(product)s cannot be ordered online right now: what may be held for unpaid orders "
                                "is already held. Buy it at the gerai, or try again later.", product=product),
                              field="cart")


def hold_for(payment_method: str) -> timedelta:
    """How long a new order holds its stock before it expires unpaid (or unconfirmed)."""
    if payment_method == states.PAY_ONLINE:
        return timedelta(minutes=_cfg("ORDER_PAYMENT_MINUTES"))
    return timedelta(hours=_cfg("GERAI_CONFIRM_HOURS"))


def confirmed_hold() -> timedelta:
    """How long a pay-at-gerai order holds its stock once the gerai confirmed it."""
    return timedelta(hours=_cfg("GERAI_RESERVATION_HOURS"))
