from __future__ import annotations

from marketplace.i18n import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, RadioField
from wtforms.validators import InputRequired, NumberRange

from marketplace.forms import select_choices

from . import messages as m

SOLD_MODE_CHOICES = select_choices([("each", _l("A message for each sale")),
                                    ("daily", _l("One summary a day (the next morning)"))])


class PreferencesForm(FlaskForm):
    sold = BooleanField(m.TEMPLATES[m.SOLD].label)
    sold_mode = RadioField(_l("Sales"), choices=SOLD_MODE_CHOICES, default="each")
    low_stock = BooleanField(m.TEMPLATES[m.LOW_STOCK].label)
    low_stock_threshold = IntegerField(_l("Tell me when a product has this many units left or fewer"),
                                       validators=[InputRequired(), NumberRange(min=0, max=10_000)], default=3)
    expiring = BooleanField(m.TEMPLATES[m.EXPIRING].label)
    aging = BooleanField(m.TEMPLATES[m.AGING].label)
    statement_ready = BooleanField(m.TEMPLATES[m.STATEMENT_READY].label)
    statement_paid = BooleanField(m.TEMPLATES[m.STATEMENT_PAID].label)
    order = BooleanField(m.TEMPLATES[m.ORDER].label)


class ActionForm(FlaskForm):
    """A button: only the CSRF token."""
