"""The statement PDF: a Unicode font, and columns whose headers line up with their values."""
import io

import pytest
from fpdf import FPDF
from pypdf import PdfReader

from consignment import services as gerai
from consignment.services import LineRequest
from marketplace.timeutil import local_today
from settlement import pdf as statement_pdf
from settlement import services

NAME = "Kue Ḍ ‘Wadai’ — Ā"


@pytest.fixture
def statement(make_user, make_member, make_product, make_lot):
    kasir, pengurus = make_user("kasir"), make_user("pengurus")
    member = make_member(business_name=NAME)
    lot = make_lot(product=make_product(member=member, name="Wadai Cincin “Ḥalal” ×2", price=1_250_000),
                   quantity=10, kasir=kasir)
    gerai.record_counter_sale(kasir, [LineRequest(lot.id, 2)], "cash")
    period = services.close_period(pengurus, services.open_period(pengurus, local_today()).id)
    return period.payouts[0], member


def _pdf_text(client, payout_id: int) -> tuple[str, list[tuple[str, float, float]]]:
    """The PDF's text, and each shown string with where it starts and its size (for alignment)."""
    response = client.get(f"/pernyataan/{payout_id}.pdf")
    assert response.mimetype == "application/pdf"
    page = PdfReader(io.BytesIO(response.data)).pages[0]
    runs: list[tuple[str, float, float]] = []  # (text, x where it starts, font size)

    def visit(text, cm, tm, font_dict, font_size):
        if text.strip():
            runs.append((text.strip(), tm[4], font_size))

    return page.extract_text(visitor_text=visit), runs


@pytest.mark.parametrize("mono", [False, True], ids=["system-dejavu", "barcode-package-font"])
def test_statement_pdf_keeps_non_latin1_names(client, login_as, statement, monkeypatch, mono):
    if mono:  # the font shipped by a PyPI package, as on a machine without fonts-dejavu-core
        monkeypatch.setattr(statement_pdf, "FONT_CANDIDATES", statement_pdf.FONT_CANDIDATES[-1:])
    elif not statement_pdf.FONT_CANDIDATES[0][0].is_file():
        pytest.skip("fonts-dejavu-core is not installed")
    payout, member = statement
    login_as("member", member=member)
    text, _runs = _pdf_text(client, payout.id)
    assert NAME in text
    assert "Wadai Cincin “Ḥalal” ×2" in text


def test_statement_pdf_right_aligns_amount_headers_with_their_values(client, login_as, statement):
    payout, member = statement
    login_as("member", member=member)
    measure = FPDF(unit="pt")  # pypdf reports positions in points
    regular, bold = statement_pdf.font_files()
    measure.add_font("m", "", str(regular))
    measure.add_font("m", "B", str(bold))
    _text, runs = _pdf_text(client, payout.id)
    wanted = {"Jml": "B", "Kotor": "B", "Komisi": "B", "2": "", "Rp2.500.000": "", "Rp375.000": ""}
    ends = {}
    for text, x, size in runs:
        if text in wanted and text not in ends and size == 9:
            measure.set_font("m", wanted[text], 9)
            ends[text] = x + measure.get_string_width(text)
    assert set(ends) == set(wanted), runs
    one_mm = 72 / 25.4
    assert ends["Jml"] == pytest.approx(ends["2"], abs=one_mm)
    assert ends["Kotor"] == pytest.approx(ends["Rp2.500.000"], abs=one_mm)
    assert ends["Komisi"] == pytest.approx(ends["Rp375.000"], abs=one_mm)
