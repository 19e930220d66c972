"""Consignment forms. Numbers are typed as text so what was typed survives an error."""
from __future__ import annotations

from marketplace.i18n import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.widgets import HiddenInput
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from catalog.forms import RupiahField, _optional_int
from marketplace.forms import select_choices
from marketplace.once import OnceForm

from .models import ADJUSTMENT_REASON_LABELS, ADJUSTMENT_REASONS, PAYMENT_METHODS


def payment_method_labels() -> dict:
    return {"cash": _l("Cash"), "qris": _l("QRIS"), "transfer": _l("Bank transfer")}


def adjustment_reason_labels() -> dict:
    return dict(ADJUSTMENT_REASON_LABELS)


class AgreementForm(FlaskForm):
    member_id = SelectField(_l("Member"), coerce=_optional_int, validators=[DataRequired()])
    category_id = SelectField(_l("Category (empty: every category)"), coerce=_optional_int, validators=[Optional()])
    commission = StringField(_l("Commission (%)"), validators=[DataRequired(), Length(max=8)])
    valid_from = DateField(_l("Valid from"), validators=[DataRequired()])
    valid_to = DateField(_l("Valid until (optional)"), validators=[Optional()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


class IntakeForm(OnceForm):
    product_id = IntegerField(_l("Product"), validators=[Optional()], widget=HiddenInput())  # picked by searching
    new_member_id = SelectField(_l("Member"), coerce=_optional_int, validators=[Optional()])
    new_name = StringField(_l("New product name"), validators=[Optional(), Length(max=200)])
    new_unit = StringField(_l("Unit"), validators=[Optional(), Length(max=50)])
    new_same_name_ok = BooleanField(_l("Yes, another product with this name"))
    quantity = IntegerField(_l("Quantity received"), validators=[InputRequired(), NumberRange(min=1, max=100000)])
    unit_price = RupiahField(_l("Consignment price per unit (Rp)"), validators=[Optional()])
    expiry_date = DateField(_l("Best before (food)"), validators=[Optional()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


class AdjustmentForm(OnceForm):
    reason = SelectField(_l("Reason"), choices=select_choices(
        [(r, adjustment_reason_labels()[r]) for r in ADJUSTMENT_REASONS]))
    quantity = IntegerField(_l("Quantity"), validators=[InputRequired()])
    note = StringField(_l("What happened"), validators=[DataRequired(), Length(max=500)])


class CheckoutForm(OnceForm):
    payment_method = SelectField(_l("Payment"), choices=select_choices(
        [(m, payment_method_labels()[m]) for m in PAYMENT_METHODS]), default="cash")
    cash_received = RupiahField(_l("Cash received (Rp)"), validators=[Optional()])
    payment_reference = StringField(_l("Reference (QRIS / transfer)"), validators=[Optional(), Length(max=100)])
    expected_total = HiddenField()  # the total the kasir saw; a cart changed in another tab is refused


class VoidForm(OnceForm):
    reason = TextAreaField(_l("Why is this sale voided?"), validators=[DataRequired(), Length(min=3, max=500)])


class ReturnForm(OnceForm):
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])
