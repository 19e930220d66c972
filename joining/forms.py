"""Forms of joining: the public request form and the pengurus' decisions."""
from __future__ import annotations

from marketplace.i18n import lazy_gettext as _l
from wtforms import FileField, StringField, TelField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from marketplace.once import OnceForm


class JoinForm(OnceForm):
    business_name = StringField(_l("Business name"), validators=[DataRequired(), Length(max=200)])
    owner_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200)])
    whatsapp = TelField(_l("WhatsApp number"), validators=[DataRequired(), Length(max=32)])
    address = TextAreaField(_l("Address"), validators=[DataRequired(), Length(max=1000)])
    makes = TextAreaField(_l("What you make"), validators=[DataRequired(), Length(max=2000)])
    photo = FileField(_l("A photo of one of your products"))
    # The honeypot: hidden from people (CSS, not in the tab order); robots fill in every field.
    website = StringField(_l("Leave this field empty"), validators=[Optional(), Length(max=200)])


class ApproveForm(OnceForm):
    pass


class DeclineForm(OnceForm):
    reason = TextAreaField(_l("Reason (she will read it)"), validators=[DataRequired(), Length(max=1000)])
