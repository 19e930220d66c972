"""Forms of the core area: sign-in and member (UMKM) accounts."""
from __future__ import annotations

from marketplace.i18n import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, FileField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from .timeutil import ZONE_CHOICES

try:  # WTForms >= 3.3 declares options as SelectChoice; tuples are deprecated there
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover
    SelectChoice = None


def select_choices(pairs) -> list:
    """[(value, label), ...] in the form the installed WTForms prefers."""
    if SelectChoice is None:  # pragma: no cover
        return list(pairs)
    return [SelectChoice(value, label) for value, label in pairs]


class LoginForm(FlaskForm):
    identifier = StringField(_l("Email or phone number"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Keep me signed in"))


class NewPasswordForm(FlaskForm):
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=128)])
    confirm = PasswordField(_l("New password again"), validators=[DataRequired(), Length(max=128)])


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=128)])


class StaffForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(_l("Role"), validators=[DataRequired()])
    phone = StringField(_l("Phone / WhatsApp number"), validators=[Optional(), Length(max=32)])
    email = EmailField(_l("Email (optional)"), validators=[Optional(), Length(max=254)])
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(max=128)])


class MemberForm(FlaskForm):
    business_name = StringField(_l("Business name"), validators=[DataRequired(), Length(max=200)])
    owner_name = StringField(_l("Owner's name"), validators=[DataRequired(), Length(max=200)])
    whatsapp = StringField(_l("WhatsApp number"), validators=[DataRequired(), Length(max=32)])
    address = TextAreaField(_l("Address"), validators=[Optional(), Length(max=1000)])
    bank_name = StringField(_l("Bank"), validators=[Optional(), Length(max=100)])
    bank_account_number = StringField(_l("Account number"), validators=[Optional(), Length(max=50)])
    bank_account_holder = StringField(_l("Account holder"), validators=[Optional(), Length(max=200)])


class NewMemberForm(MemberForm):
    email = EmailField(_l("Email (for signing in, optional)"), validators=[Optional(), Length(max=254)])
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(min=8, max=128)])


class CooperativeForm(FlaskForm):
    name = StringField(_l("Cooperative name"), validators=[DataRequired(), Length(max=200)])
    legal_number = StringField(_l("Legal entity number"), validators=[Optional(), Length(max=100)])
    address = TextAreaField(_l("Address"), validators=[Optional(), Length(max=1000)])
    village = StringField(_l("Village"), validators=[Optional(), Length(max=200)])
    whatsapp = StringField(_l("WhatsApp number"), validators=[Optional(), Length(max=32)])
    about = TextAreaField(_l("About"), validators=[Optional(), Length(max=5000)])
    hero_text = TextAreaField(_l("Home page welcome text"), validators=[Optional(), Length(max=1000)])
    vision = TextAreaField(_l("Vision"), validators=[Optional(), Length(max=2000)])
    mission = TextAreaField(_l("Mission"), validators=[Optional(), Length(max=4000)])
    email = StringField(_l("Email"), validators=[Optional(), Length(max=254)])
    map_url = StringField(_l("Map link (e.g. Google Maps)"), validators=[Optional(), Length(max=500)])
    default_commission = StringField(_l("Default commission (%)"), validators=[DataRequired(), Length(max=8)])
    time_zone = SelectField(_l("Time zone"), choices=select_choices(ZONE_CHOICES), validate_choice=False)  # the service checks
    logo = FileField(_l("Logo (JPEG, PNG or WebP)"))
    remove_logo = BooleanField(_l("Remove the logo"))
