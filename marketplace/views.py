"""Helpers shared by the thin routes of every package."""
from __future__ import annotations

from flask import flash
from flask_wtf import FlaskForm

from .errors import DomainError


def show_domain_error(form: FlaskForm | None, error: DomainError) -> None:
    """Put a service's message next to the field it concerns, or flash it when it has none."""
    field = getattr(form, error.field, None) if (form is not None and error.field) else None
    if field is not None:
        field.errors = list(field.errors) + [error.message]
    else:
        flash(error.message, "error")
