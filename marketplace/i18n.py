"""WTForms' built-in messages ("This field is required.") through our catalogue, in the request's language.

WTForms ships no Indonesian, and Flask-WTF looks its messages up in WTForms' own catalogue. Flask-WTF
caches the translations it uses on the request (`request.wtforms_translations`); we put ours there before
every request, so every form (whoever wrote it) speaks the language of the page around it.
"""
from __future__ import annotations

from flask import Flask, request
from flask_babel import get_translations, gettext, ngettext


class _CatalogTranslations:
    """The interface WTForms asks for, answered by Flask-Babel (messages.po). WTForms fills in the
    placeholders itself, so these return the bare translation."""

    def ugettext(self, string: str) -> str:
        return get_translations().ugettext(string)

    def ungettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ungettext(singular, plural, n)

    gettext = ugettext
    ngettext = ungettext


CATALOG_TRANSLATIONS = _CatalogTranslations()


def init_app(app: Flask) -> None:
    @app.before_request
    def _wtforms_speak_the_page_language():
        request.wtforms_translations = CATALOG_TRANSLATIONS


def _wtforms_messages() -> None:  # pragma: no cover - never called: marks WTForms' messages for `pybabel extract`
    gettext("This field is required.")
    gettext("Invalid input.")
    gettext("Invalid email address.")
    gettext("Not a valid choice.")
    gettext("Invalid Choice: could not coerce.")
    gettext("Not a valid integer value.")
    gettext("Not a valid decimal value.")
    gettext("Not a valid float value.")
    gettext("Not a valid date value.")
    gettext("Not a valid datetime value.")
    gettext("Not a valid time value.")
    gettext("Field must be between %(min)d and %(max)d characters long.")
    gettext("Number must be at least %(min)s.")
    gettext("Number must be at most %(max)s.")
    gettext("Number must be between %(min)s and %(max)s.")
    gettext("Field must be equal to %(other_name)s.")
    ngettext("Field must be at least %(min)d character long.", "Field must be at least %(min)d characters long.", 1)
    ngettext("Field cannot be longer than %(max)d character.", "Field cannot be longer than %(max)d characters.", 1)
    ngettext("Field must be exactly %(max)d character long.", "Field must be exactly %(max)d characters long.", 1)
