"""Every user-facing message in the code has an Indonesian translation, and the language switch works."""
import subprocess
import sys
from pathlib import Path

import pytest

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


PO = ROOT / "marketplace/translations/id/LC_MESSAGES/messages.po"
FIX = "run `make extract-messages`, then translate the empty entries in messages.po"


def _extract_template(tmp_path):
    pot = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run([str(pybabel), "extract", "-F", "babel.cfg", "-k", "_l", "-o", str(pot), "."],
                   cwd=ROOT, check=True, capture_output=True)
    with open(pot, "rb") as fh:
        return read_po(fh)


def _catalog():
    with open(PO, "rb") as fh:
        return read_po(fh, locale="id")


def _translated(message) -> bool:
    strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
    return all(strings)


def test_every_message_in_the_code_is_translated_to_indonesian(tmp_path):
    wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in _extract_template(tmp_path) if m.id}
    catalog = _catalog()
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id and _translated(m)}
    assert sorted(wanted - translated) == [], FIX


def test_messages_po_holds_exactly_the_messages_of_the_code(tmp_path):
    wanted = {m.id for m in _extract_template(tmp_path) if m.id}
    have = {m.id for m in _catalog() if m.id}
    assert sorted(map(str, have - wanted)) == [], "messages.po is out of date with the code: " + FIX
    assert sorted(map(str, wanted - have)) == [], "messages.po is out of date with the code: " + FIX


def test_no_translation_is_fuzzy_or_empty_or_breaks_its_placeholders():
    catalog = _catalog()
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    empty = [m.id for m in catalog if m.id and not _translated(m)]
    assert fuzzy == [], "fuzzy entries are guesses: check the translation and remove the `#, fuzzy` line"
    assert empty == [], FIX
    broken = [(m.id, [str(e) for e in errors]) for m, errors in catalog.check()]
    assert broken == []


def test_service_messages_follow_the_chosen_language(app, make_member):
    from catalog.services import ProductData, create_product
    from marketplace.errors import DomainError

    member = make_member()
    for lang, message in (("id", "Nama produk wajib diisi."), ("en", "The product name is required.")):
        with app.app_context(), app.test_request_context("/"):  # fresh g: Babel caches the locale there
            from flask import session

            session["lang"] = lang
            with pytest.raises(DomainError) as exc:
                create_product(member.user, ProductData(name="", price=1000, unit="pcs"))
            assert exc.value.message == message


@pytest.mark.parametrize("lang, required, too_long", [
    ("id", "Harus diisi.", "Paling banyak 200 karakter."),
    ("en", "This field is required.", "Field cannot be longer than 200 characters."),
])
def test_wtforms_built_in_messages_speak_the_page_language(client, login_as, lang, required, too_long):
    login_as("member")
    with client.session_transaction() as session:
        session["lang"] = lang
    page = client.post("/kelola/produk/baru", data={"name": "x" * 201, "price": "", "unit": "pcs",
                                                     "status": "draft"}).get_data(as_text=True)
    assert required in page and too_long in page


def test_a_page_finds_the_catalogue_once_however_many_messages_it_shows(client, login_as, make_product, make_lot,
                                                                        monkeypatch):
    """Flask-Babel looks the catalogue up again on every message (~11 µs); a signed-in page shows
    hundreds. The lookups go through `marketplace.i18n.current_translations`, which finds it once."""
    import flask_babel

    member = login_as("member")
    for _ in range(5):
        make_lot(product=make_product(member=member), quantity=3)
    calls = []
    real = flask_babel.Domain.get_translations
    monkeypatch.setattr(flask_babel.Domain, "get_translations", lambda self: calls.append(1) or real(self))
    for path in ("/gerai/saya", "/produk", "/saya/pemberitahuan"):
        calls.clear()
        response = client.get(path)
        assert response.status_code == 200, path
        assert len(calls) <= 2, f"{path}: the catalogue was looked up {len(calls)} times"


def test_a_message_forced_into_indonesian_on_an_english_page_is_indonesian(app):
    from flask import session
    from flask_babel import force_locale

    from marketplace.i18n import gettext

    with app.test_request_context("/"):
        session["lang"] = "en"
        assert gettext("The product name is required.") == "The product name is required."
        with force_locale("id"):
            assert gettext("The product name is required.") == "Nama produk wajib diisi."
        assert gettext("The product name is required.") == "The product name is required."
