"""Cart, checkout, the shopper's order page, Midtrans notifications, and order handling for staff.

Thin: parse, call a service, render. GET never changes data: order expiry runs from the CLI
(`flask --app wsgi expire-orders`, cron), and the shopper checks a payment with a POST.
"""
from __future__ import annotations

import click
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from marketplace.i18n import gettext as _
from marketplace.i18n import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from catalog.models import STATUS_PUBLISHED, Product
from consignment import offline as gerai_offline
from consignment.services import product_stock
from marketplace.cooperative import current_cooperative
from marketplace import once
from marketplace.errors import DomainError
from marketplace.extensions import csrf, db
from marketplace.models import ROLE_KASIR, ROLE_PENGAWAS, ROLE_PENGURUS
from marketplace.money import format_rupiah
from marketplace.security import public, roles_required
from marketplace.text import whatsapp_link
from marketplace.views import absolute_url, safe_next, show_domain_error
from qris import services as qris

from . import midtrans, services as orders, states
from .forms import CancelOrderForm, CheckoutForm, CounterPaymentForm
from .models import Order

bp = Blueprint("orders", __name__, template_folder="templates", cli_group=None)
STAFF_READERS = (ROLE_KASIR, ROLE_PENGURUS, ROLE_PENGAWAS)
STAFF_ACTORS = (ROLE_KASIR, ROLE_PENGURUS)
LIST_FILTERS = (("open", _l("Open")), (states.COMPLETED, _l("Completed")), (states.CANCELLED, _l("Cancelled")),
                (states.EXPIRED, _l("Expired")), ("", _l("All")))

MAX_CART_LINES = 50


def _cart() -> dict[str, int]:
    return session.setdefault("cart", {})


def cart_view():
    """Cart lines with current products and availability (what the page and WhatsApp text show)."""
    cart = _cart()
    ids = [int(pid) for pid in cart]
    products = {p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_(ids),
                                                                          Product.status == STATUS_PUBLISHED))} if ids else {}
    stock = product_stock(products)
    lines = [{"product": products[int(pid)], "qty": qty, "available": stock.get(int(pid), 0),
              "subtotal": products[int(pid)].price * qty} for pid, qty in cart.items() if int(pid) in products]
    return lines, sum(line["subtotal"] for line in lines)


def whatsapp_order_text(lines, total, buyer: str = "") -> str:
    rows = [_("Hello, I would like to order:")]
    rows += [f"- {line['product'].name} × {line['qty']} = {format_rupiah(line['subtotal'])}" for line in lines]
    rows.append(_("Total: %(total)s", total=format_rupiah(total)))
    if buyer:
        rows.append(_("Name: %(name)s", name=buyer))
    return "\n".join(rows)


@bp.app_context_processor
def cart_size():
    return {"cart_count": sum(session.get("cart", {}).values()) if "cart" in session else 0,
            "online_payment": bool(current_app.config.get("MIDTRANS_SERVER_KEY"))}


@bp.post("/keranjang/tambah")
@public
def cart_add():
    product = db.session.get(Product, request.form.get("product_id", type=int) or 0)
    if product is None or product.status != STATUS_PUBLISHED:
        abort(404)
    qty = min(max(request.form.get("jumlah", 1, type=int) or 1, 1), 99)
    cart = _cart()
    if str(product.id) not in cart and len(cart) >= MAX_CART_LINES:
        flash(_("Your cart is full."), "error")
    else:
        cart[str(product.id)] = min(cart.get(str(product.id), 0) + qty, 99)
        session.modified = True
        flash(_("%(product)s added to your cart.", product=product.name), "success")
    return redirect(safe_next(request.form.get("next")) or url_for("orders.cart"))


@bp.post("/keranjang/ubah")
@public
def cart_update():
    cart = _cart()
    pid = str(request.form.get("product_id", type=int) or "")
    qty = request.form.get("jumlah", type=int) or 0
    if pid in cart:
        if qty <= 0:
            del cart[pid]
        else:
            cart[pid] = min(qty, 99)
        session.modified = True
    return redirect(url_for("orders.cart"))


@bp.get("/keranjang")
@public
def cart():
    lines, total = cart_view()
    coop_wa = _coop_whatsapp()
    buyer = request.args.get("nama", "")[:100].strip()
    wa = whatsapp_link(coop_wa, whatsapp_order_text(lines, total, buyer)) if coop_wa and lines else None
    return render_template("orders/cart.html", lines=lines, total=total, whatsapp=wa, buyer=buyer)


def _order_url(order) -> str:
    return absolute_url("orders.order_page", token=order.token)


def _coop_whatsapp() -> str:
    coop = current_cooperative()
    return coop.whatsapp if coop else ""


@bp.route("/checkout", methods=["GET", "POST"])
@public
def checkout():
    lines, total = cart_view()
    form = CheckoutForm()
    if not current_app.config.get("MIDTRANS_SERVER_KEY"):
        form.payment_method.data = states.PAY_AT_GERAI
    if not lines:
        placed = once.first_result(request.form.get("once"), "order.place") if request.method == "POST" else None
        if placed is not None:  # the checkout sent again after the first one emptied the cart
            return redirect(url_for("orders.order_page", token=db.session.get(Order, placed).token))
        flash(_("Your cart is empty."), "info")
        return redirect(url_for("storefront.products"))
    refused = False
    if form.validate_on_submit():
        try:
            order = orders.place_order({int(k): v for k, v in _cart().items()}, orders.Customer(
                name=form.name.data, phone=form.phone.data, fulfilment=form.fulfilment.data,
                address=form.address.data or "", notes=form.notes.data or ""), form.payment_method.data,
                client_ip=request.remote_addr or "", once_key=form.once.data)
        except DomainError as exc:
            show_domain_error(form, exc)
            refused = True
        else:
            session["cart"] = {}
            if order.token not in session.setdefault("orders", []):
                session["orders"].append(order.token)
            session.modified = True
            if order.is_online:
                try:
                    return redirect(orders.start_online_payment(order, _order_url(order)))
                except midtrans.GatewayError as exc:
                    flash(exc.message, "error")
            return redirect(url_for("orders.order_page", token=order.token))
    status = 422 if form.errors or refused else 200
    return render_template("orders/checkout.html", form=form, lines=lines, total=total), status


@bp.get("/pesanan/<token>")
@public
def order_page(token: str):
    """The shopper's order page (also Snap's finish redirect). Reads only: checking the payment is a POST."""
    order = orders.order_by_token(token) or abort(404)
    response = current_app.make_response(render_template("orders/order.html", order=order,
                                                         coop_whatsapp=_coop_whatsapp()))
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.post("/pesanan/<token>/cek")
@public
def order_check_payment(token: str):
    """The shopper asks whether their payment arrived: confirm it with Midtrans' status API."""
    order = orders.order_by_token(token) or abort(404)
    try:
        orders.refresh_payment(order)
    except midtrans.GatewayError as exc:
        flash(exc.message, "error")
    return redirect(url_for("orders.order_page", token=token))


@bp.post("/pesanan/<token>/bayar")
@public
def order_pay(token: str):
    order = orders.order_by_token(token) or abort(404)
    try:
        return redirect(orders.start_online_payment(order, _order_url(order)))
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("orders.order_page", token=token))


@bp.post("/payments/midtrans/notification")
@public
@csrf.exempt  # Midtrans cannot send our CSRF token; the request is authenticated by its signature instead
def midtrans_notification():
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return {"status": "bad request"}, 400
    if qris.owns(payload.get("order_id")):  # a QRIS charge at the counter, not an online order
        return _counter_payment_notification(payload)
    try:
        order = orders.handle_notification(payload)
    except PermissionError:
        return {"status": "forbidden"}, 403
    except midtrans.GatewayError:
        return {"status": "retry later"}, 503  # Midtrans retries; nothing was changed
    if order is None:
        return {"status": "unknown order"}, 404
    return {"status": "ok", "order_status": order.status}


def _counter_payment_notification(payload: dict):
    try:
        payment = qris.handle_notification(payload)
    except PermissionError:
        return {"status": "forbidden"}, 403
    except midtrans.GatewayError:
        return {"status": "retry later"}, 503
    if payment is None:
        return {"status": "unknown order"}, 404
    return {"status": "ok", "payment_status": payment.status}


# --- staff -----------------------------------------------------------------------------------------

@bp.get("/gerai/pesanan")
@roles_required(*STAFF_READERS)
def staff_orders():
    status = request.args.get("status", "open")
    return render_template("orders/staff_orders.html", orders=orders.staff_orders(status or None), status=status,
                           filters=LIST_FILTERS)


def _render_staff_order(order: Order, pay_form: CounterPaymentForm, cancel_form: CancelOrderForm, status: int = 200):
    greeting = _("Hello %(name)s, about your order %(number)s: ", name=order.customer_name, number=order.number)
    return render_template("orders/staff_order.html", order=order, pay_form=pay_form, cancel_form=cancel_form,
                           whatsapp=whatsapp_link(order.customer_phone, greeting),
                           check_shelf=order.id in gerai_offline.orders_hit_by_discrepancies([order.id]),
                           can_act=current_user.has_role(*STAFF_ACTORS)), status


@bp.get("/gerai/pesanan/<int:order_id>")
@roles_required(*STAFF_READERS)
def staff_order(order_id: int):
    order = db.session.get(Order, order_id) or abort(404)
    return _render_staff_order(order, CounterPaymentForm(prefix="pay"), CancelOrderForm(prefix="cancel"))


@bp.post("/gerai/pesanan/<int:order_id>")
@roles_required(*STAFF_ACTORS)
def staff_order_action(order_id: int):
    order = db.session.get(Order, order_id) or abort(404)
    pay_form, cancel_form = CounterPaymentForm(prefix="pay"), CancelOrderForm(prefix="cancel")
    action = request.form.get("action")
    try:
        if action == states.MARK_READY:
            orders.mark_ready(current_user, order.id)
        elif action == states.DELIVER:
            orders.mark_delivered(current_user, order.id)
        elif action == states.COMPLETE and pay_form.validate_on_submit():
            order = orders.complete_at_counter(current_user, order.id, pay_form.payment_method.data,
                                       pay_form.cash_received.amount, pay_form.payment_reference.data or "",
                                       once_key=pay_form.once.data)
        elif action == states.CANCEL and cancel_form.validate_on_submit():
            orders.cancel_order(current_user, order.id, cancel_form.reason.data)
        else:
            raise DomainError(_("Check the form."))
    except DomainError as exc:
        show_domain_error(pay_form if action == states.COMPLETE else cancel_form, exc)
        db.session.refresh(order)
        return _render_staff_order(order, pay_form, cancel_form, 422)
    if action == states.COMPLETE and order.sale_id:
        # The receipt shows the total, the cash received and the change, ready to print or hand over.
        return redirect(url_for("consignment.receipt", sale_id=order.sale_id))
    flash(_("Order %(number)s updated.", number=order.number), "success")
    return redirect(url_for("orders.staff_order", order_id=order.id))


@bp.cli.command("expire-orders")
def expire_orders_command():
    """Release the stock of unpaid online orders past their time (cron, every few minutes)."""
    run = orders.expire_stale_orders()
    click.echo(f"Expired {run.expired} orders.")
    click.echo(f"Ended {qris.expire_stale_payments()} QRIS codes shown at the counter and not paid in time.")
    for failure in run.failed:
        click.echo(f"Not checked, left for the next run: {failure}", err=True)
