"""A member statement as PDF (fpdf2) in a Unicode TrueType font, embedded (subset) in the file.

The font is DejaVu Sans from Debian's fonts-dejavu-core when it is installed (regular and bold), else the
DejaVu Sans Mono that the python-barcode package (already a dependency, for the labels) ships: either way
every character of a name ("Kue Ḍ ‘Wadai’ — Ā") reaches the PDF, and `make run` needs no apt. A table
lays out the lines: each column has one alignment for its header and its values (numbers right-aligned
under right-aligned headers), and long product names wrap instead of being cut.
"""
from __future__ import annotations

from pathlib import Path

import barcode
from fpdf import FPDF
from fpdf.fonts import FontFace

from marketplace.money import format_rupiah
from marketplace.timeutil import to_local

from .models import Payout

FONT = "statement"
# (regular, bold) in order of preference; the last is always there (python-barcode ships it).
FONT_CANDIDATES: tuple[tuple[Path, Path], ...] = (
    (Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"), Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")),
    (Path(barcode.__file__).parent / "fonts" / "DejaVuSansMono.ttf",) * 2,
)
# Date, sale, product, quantity, gross, commission: widths (mm, 186 in all) and alignment of each column.
COLUMN_WIDTHS = (24, 34, 62, 12, 27, 27)
COLUMN_ALIGN = ("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT")


def font_files() -> tuple[Path, Path]:
    """The first installed (regular, bold) pair of FONT_CANDIDATES; bold falls back to regular."""
    for regular, bold in FONT_CANDIDATES:
        if regular.is_file():
            return regular, (bold if bold.is_file() else regular)
    raise FileNotFoundError("no Unicode font for the statement PDF")  # pragma: no cover - python-barcode ships one


def _pdf() -> FPDF:
    pdf = FPDF(format="A4")
    pdf.set_margins(12, 12)
    pdf.set_auto_page_break(auto=True, margin=15)
    regular, bold = font_files()
    pdf.add_font(FONT, "", str(regular))
    pdf.add_font(FONT, "B", str(bold))
    return pdf


def _amount_row(pdf: FPDF, label: str, amount: int, height: float = 6) -> None:
    pdf.cell(146, height, label)
    pdf.cell(40, height, format_rupiah(amount), align="R", new_x="LMARGIN", new_y="NEXT")


def statement_pdf(payout: Payout, coop_name: str, labels: dict[str, str]) -> bytes:
    pdf = _pdf()
    pdf.add_page()
    pdf.set_font(FONT, "B", 14)
    pdf.multi_cell(0, 8, coop_name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 11)
    pdf.multi_cell(0, 6, f"{labels['title']} #{payout.id} — {payout.member.business_name}", new_x="LMARGIN",
                   new_y="NEXT")
    pdf.cell(0, 6, f"{labels['cutoff']}: {payout.period.cutoff_date.strftime('%d/%m/%Y')}", new_x="LMARGIN",
             new_y="NEXT")
    pdf.ln(3)
    pdf.set_font(FONT, "", 9)
    with pdf.table(col_widths=COLUMN_WIDTHS, text_align=COLUMN_ALIGN, line_height=5, width=sum(COLUMN_WIDTHS),
                   borders_layout="HORIZONTAL_LINES", headings_style=FontFace(emphasis="BOLD"),
                   align="LEFT") as table:
        table.row(labels["columns"])
        for line in payout.lines:
            sl = line.sale_line
            table.row((to_local(sl.sale.created_at).strftime("%d/%m/%Y"), sl.sale.number, sl.product.name,
                       str(sl.quantity), format_rupiah(line.gross), format_rupiah(line.commission)))
    pdf.ln(2)
    for adj in payout.adjustment_rows:
        pdf.multi_cell(0, 5, f"{adj.description}: {format_rupiah(adj.amount)}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font(FONT, "", 10)
    for key, amount in (("gross", payout.gross), ("commission", -payout.commission), ("fees", -payout.fees),
                        ("adjustments", payout.adjustments)):
        _amount_row(pdf, labels[key], amount)
    pdf.set_font(FONT, "B", 11)
    _amount_row(pdf, labels["payable"], payout.payable, 7)
    pdf.set_font(FONT, "", 10)
    if payout.carried_forward:
        _amount_row(pdf, labels["carried"], payout.carried_forward)
    if payout.payment:
        p = payout.payment
        pdf.multi_cell(0, 6, f"{labels['paid']}: {to_local(p.paid_at).strftime('%d/%m/%Y %H:%M')} "
                             f"{labels['methods'][p.method]} {p.reference} {p.acknowledged_by}".strip(),
                       new_x="LMARGIN", new_y="NEXT")
    else:
        pdf.cell(0, 6, labels["unpaid"], new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
