from __future__ import annotations

from marketplace.i18n import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from marketplace.forms import select_choices
from marketplace.once import OnceForm

from .models import PAYOUT_METHODS


def payout_method_labels() -> dict:
    return {"cash": _l("Cash"), "bank_transfer": _l("Bank transfer"), "ewallet": _l("E-wallet")}


class OpenPeriodForm(OnceForm):
    cutoff_date = DateField(_l("Cut-off date (sales up to and including this day)"), validators=[DataRequired()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


class ClosePeriodForm(OnceForm):
    """Only the one-time key (and the CSRF token)."""


class PaymentForm(OnceForm):
    method = SelectField(_l("Paid by"), choices=select_choices([(m, payout_method_labels()[m]) for m in PAYOUT_METHODS]),
                         default="bank_transfer")
    reference = StringField(_l("Transfer reference"), validators=[Optional(), Length(max=120)])
    acknowledged_by = StringField(_l("Cash received by (name)"), validators=[Optional(), Length(max=200)])
