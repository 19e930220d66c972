"""Catalog forms. The price is typed as text so '62.500' works and what was typed is kept on errors."""
from __future__ import annotations

from marketplace.i18n import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, MultipleFileField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from marketplace.forms import select_choices
from marketplace.money import parse_rupiah
from marketplace.once import OnceForm

from .models import MAX_DESCRIPTION, MAX_PHOTOS, MAX_SKU, MAX_UNIT


def _optional_int(value):
    return int(value) if value not in (None, "", "None") else None


class RupiahField(StringField):
    """A text field holding integer Rupiah; `.amount` is the parsed value after validation."""

    amount: int | None = None

    def process_data(self, value):
        # An amount from the object being edited shows as a person types it (15000 -> "15.000"), and stays
        # text when a form is sent without this field.
        self.data = f"{value:,}".replace(",", ".") if isinstance(value, int) else value

    def pre_validate(self, form):
        self.amount = None
        if self.data:
            try:
                self.amount = parse_rupiah(self.data)
            except ValueError as exc:
                raise ValidationError(str(exc))


class ProductForm(FlaskForm):
    member_id = SelectField(_l("Business (UMKM)"), coerce=_optional_int, validators=[Optional()])
    name = StringField(_l("Product name"), validators=[DataRequired(), Length(max=200)])
    price = RupiahField(_l("Price (Rp)"), validators=[DataRequired()])
    unit = StringField(_l("Unit"), validators=[DataRequired(), Length(max=MAX_UNIT)], default="pcs")
    category_id = SelectField(_l("Category"), coerce=_optional_int, validators=[Optional()])
    sku = StringField(_l("Product code (optional)"), validators=[Optional(), Length(max=MAX_SKU)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=MAX_DESCRIPTION)])
    status = SelectField(_l("Status"), choices=select_choices([("draft", _l("Draft (not shown)")),
                                                                 ("published", _l("Published")),
                                                                 ("archived", _l("Archived"))]), default="draft")
    photos = MultipleFileField(_l("Photos (JPEG, PNG or WebP; up to %(n)d)", n=MAX_PHOTOS))
    same_name_ok = BooleanField(_l("Yes, another product with this name"))


class CategoryForm(FlaskForm):
    name = StringField(_l("Category name"), validators=[DataRequired(), Length(max=100)])


class ImportUploadForm(FlaskForm):
    """The spreadsheet of products and, optionally, one ZIP of their photos (catalog/bulk_import.py)."""

    member_id = SelectField(_l("Business (UMKM)"), coerce=_optional_int, validators=[Optional()])
    sheet = FileField(_l("Product list (CSV or XLSX)"), validators=[FileRequired(_l("Choose the CSV or XLSX file."))])
    photos = FileField(_l("Photos (one ZIP file, optional)"))


class ImportContinueForm(FlaskForm):
    """Asks for the next batch of an import's photos to be checked (no fields: the token is in the URL)."""


class ImportConfirmForm(OnceForm):
    """Saving the previewed rows: acts once however often it is sent."""
