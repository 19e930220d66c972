from __future__ import annotations

from marketplace.i18n import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from catalog.forms import RupiahField
from marketplace.forms import select_choices
from marketplace.once import OnceForm

from .states import PAY_AT_GERAI, PAY_ONLINE


class CheckoutForm(OnceForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200)])
    phone = StringField(_l("WhatsApp number"), validators=[DataRequired(), Length(max=32)])
    fulfilment = RadioField(_l("Pickup or delivery"), choices=select_choices(
        [("pickup", _l("Pick up at the gerai")), ("delivery", _l("Delivery (the gerai contacts you about the fee)"))]),
        default="pickup")
    address = TextAreaField(_l("Delivery address"), validators=[Optional(), Length(max=1000)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=1000)])
    payment_method = RadioField(_l("Payment"), choices=select_choices(
        [(PAY_ONLINE, _l("Pay online now (QRIS, e-wallet, bank transfer, card) via Midtrans")),
         (PAY_AT_GERAI, _l("Pay at the gerai when you pick up"))]), default=PAY_AT_GERAI)


class CounterPaymentForm(OnceForm):
    payment_method = RadioField(_l("Payment"), choices=select_choices(
        [("cash", _l("Cash")), ("qris", _l("QRIS")), ("transfer", _l("Bank transfer"))]), default="cash")
    cash_received = RupiahField(_l("Cash received (Rp)"), validators=[Optional()])
    payment_reference = StringField(_l("Reference (QRIS / transfer)"), validators=[Optional(), Length(max=100)])


class CancelOrderForm(FlaskForm):
    reason = StringField(_l("Why is the order cancelled?"), validators=[DataRequired(), Length(min=3, max=300)])
