"""Translation lookups for the whole app, and WTForms' built-in messages through our catalogue.

Code imports `gettext`, `ngettext` and `lazy_gettext` from here, and templates use the same lookups: the
catalogue is found once per request (see `current_translations`), not on every call.

WTForms' built-in messages ("This field is required.") go through our catalogue, in the request's language.

WTForms ships no Indonesian, and Flask-WTF looks its messages up in WTForms' own catalogue. Flask-WTF
caches the translations it uses on the request (`request.wtforms_translations`); we put ours there before
every request, so every form (whoever wrote it) speaks the language of the page around it.
"""
from __future__ import annotations

from babel.support import NullTranslations
from flask import Flask, request
from flask.globals import _cv_app  # the app context without LocalProxy's cost (Flask 3)
from flask_babel import get_translations
from flask_babel.speaklater import LazyString
from jinja2 import pass_eval_context
from markupsafe import Markup

_NULL = NullTranslations()


def current_translations():
    """The request's catalogue, looked up once per request and locale.

    Flask-Babel finds the catalogue again on every call (context, domain, `str(locale)`): ~11 µs, and a
    signed-in page calls it hundreds of times (bench/: 40 % of `/gerai/saya`'s CPU). Here it is remembered
    on Flask-Babel's own per-request namespace next to the locale it belongs to, so `force_locale` (a
    message written in Indonesian while the page is English) still gets its own catalogue."""
    app_ctx = _cv_app.get(None)
    if app_ctx is None:
        return _NULL
    ctx = app_ctx.g.__dict__.get("_flask_babel")
    if ctx is not None:
        cached = ctx.__dict__.get("catalogue")
        if cached is not None and cached[0] is ctx.__dict__.get("babel_locale"):
            return cached[1]
    translations = get_translations()
    ctx = app_ctx.g._flask_babel
    ctx.catalogue = (ctx.babel_locale, translations)
    return translations


def gettext(string: str, **variables) -> str:
    """`flask_babel.gettext` through the per-request catalogue."""
    text = current_translations().ugettext(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    return current_translations().ungettext(singular, plural, num) % variables


def lazy_gettext(string: str, **variables) -> LazyString:
    """A translation made when it is shown (form labels defined at import time)."""
    return LazyString(gettext, string, **variables)


# Templates: what Jinja's i18n extension does with `newstyle=True` (escape the translation, then fill in
# the escaped variables), without its per-call `Context.call` and alias indirection.
@pass_eval_context
def _template_gettext(eval_ctx, string: str, **variables):
    translations = current_translations()
    if not variables and eval_ctx.autoescape:
        # A fixed text (a heading, every table cell's data-label) is the same escaped Markup every time: kept
        # with the catalogue it came from (one per language per process), so a row of cells costs lookups.
        kept = translations.__dict__.get("_escaped")
        if kept is None:
            kept = translations._escaped = {}
        text = kept.get(string)
        if text is None:
            text = Markup(translations.ugettext(string))
            text = kept[string] = text % {} if "%" in text else text
        return text
    return _fill(eval_ctx, translations.ugettext(string), variables)


def _fill(eval_ctx, text: str, variables: dict):
    """A translation as a template shows it: escaped (autoescape on), then its variables filled in escaped."""
    if eval_ctx.autoescape:
        text = Markup(text)
    return text % variables if variables or "%" in text else text


@pass_eval_context
def _template_ngettext(eval_ctx, singular: str, plural: str, num: int, **variables):
    variables.setdefault("num", num)
    return _fill(eval_ctx, current_translations().ungettext(singular, plural, num), variables)


@pass_eval_context
def _template_pgettext(eval_ctx, context: str, string: str, **variables):
    return _fill(eval_ctx, current_translations().upgettext(context, string), variables)


@pass_eval_context
def _template_npgettext(eval_ctx, context: str, singular: str, plural: str, num: int, **variables):
    variables.setdefault("num", num)
    return _fill(eval_ctx, current_translations().unpgettext(context, singular, plural, num), variables)


class _CatalogTranslations:
    """The interface WTForms asks for, answered by Flask-Babel (messages.po). WTForms fills in the
    placeholders itself, so these return the bare translation."""

    def ugettext(self, string: str) -> str:
        return current_translations().ugettext(string)

    def ungettext(self, singular: str, plural: str, n: int) -> str:
        return current_translations().ungettext(singular, plural, n)

    gettext = ugettext
    ngettext = ungettext


CATALOG_TRANSLATIONS = _CatalogTranslations()


def init_app(app: Flask) -> None:
    # Templates translate through the per-request catalogue (Flask-Babel installed its own lookups).
    app.jinja_env.globals.update(gettext=_template_gettext, _=_template_gettext, ngettext=_template_ngettext,
                                 pgettext=_template_pgettext, npgettext=_template_npgettext)

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
