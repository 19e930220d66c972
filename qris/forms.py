"""The one form of the QRIS screen that moves money: recording a late payment's refund."""
from __future__ import annotations

from marketplace.i18n import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from marketplace.once import OnceForm


class RefundForm(OnceForm):
    note = StringField(_l("How the money went back (e.g. transfer reference)"),
                       validators=[DataRequired(), Length(min=3, max=200)])
