"""Fill marketplace/translations/id/LC_MESSAGES/messages.po from the template and scripts/translations_id.py.

Usage: python scripts/update_translations.py /tmp/messages.pot   (run by `make extract-messages`)
"""
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

sys.path.insert(0, str(Path(__file__).parent))
from translations_id import ID  # noqa: E402

PO = Path(__file__).resolve().parent.parent / "marketplace/translations/id/LC_MESSAGES/messages.po"


def main(pot_path: str) -> int:
    with open(pot_path, "rb") as fh:
        catalog = read_po(fh, locale="id")
    missing = []
    for message in catalog:
        if not message.id:
            continue
        if message.id in ID:
            message.string = ID[message.id]
        else:
            missing.append(message.id)
    catalog.project, catalog.version = "pasar-koperasi", "0.1"
    catalog.fuzzy = False
    catalog.language_team = "Pasar Koperasi"
    catalog.last_translator = "Pasar Koperasi developers"
    catalog.copyright_holder = "Pasar Koperasi developers"
    with open(PO, "wb") as fh:
        write_po(fh, catalog, width=100, omit_header=False, sort_output=True, include_lineno=False)
    for m in missing:
        print(f"untranslated: {m!r}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
