"""A member statement as PDF (fpdf2, core fonts: text is reduced to Latin-1)."""
from __future__ import annotations

from fpdf import FPDF

from marketplace.money import format_rupiah
from marketplace.timeutil import to_local

from .models import Payout


def _latin1(text: str) -> str:
    return (text or "").replace("×", "x").replace("–", "-").replace("—", "-").replace("“", '"').replace(
        "”", '"').encode("latin-1", "replace").decode("latin-1")


def statement_pdf(payout: Payout, coop_name: str, labels: dict[str, str]) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 8, _latin1(coop_name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    pdf.cell(0, 6, _latin1(f"{labels['title']} #{payout.id} - {payout.member.business_name}"), new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, _latin1(f"{labels['cutoff']}: {payout.period.cutoff_date.isoformat()}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    widths = (26, 30, 64, 12, 28, 26)
    pdf.set_font("Helvetica", "B", 9)
    for w, head in zip(widths, labels["columns"]):
        pdf.cell(w, 6, _latin1(head), border="B")
    pdf.ln()
    pdf.set_font("Helvetica", "", 9)
    for line in payout.lines:
        sl = line.sale_line
        cells = (to_local(sl.sale.created_at).strftime("%d/%m/%Y"), sl.sale.number, sl.product.name[:40],
                 str(sl.quantity), format_rupiah(line.gross), format_rupiah(line.commission))
        for w, value in zip(widths, cells):
            pdf.cell(w, 5, _latin1(value), align="R" if w in (12, 28, 26) else "L")
        pdf.ln()
    for adj in payout.adjustment_rows:
        pdf.multi_cell(0, 5, _latin1(f"{adj.description}: {format_rupiah(adj.amount)}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("Helvetica", "", 10)
    for key, amount in (("gross", payout.gross), ("commission", -payout.commission), ("fees", -payout.fees),
                        ("adjustments", payout.adjustments)):
        pdf.cell(120, 6, _latin1(labels[key]))
        pdf.cell(40, 6, _latin1(format_rupiah(amount)), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(120, 7, _latin1(labels["payable"]))
    pdf.cell(40, 7, _latin1(format_rupiah(payout.payable)), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    if payout.carried_forward:
        pdf.cell(0, 6, _latin1(f"{labels['carried']}: {format_rupiah(payout.carried_forward)}"), new_x="LMARGIN", new_y="NEXT")
    if payout.payment:
        p = payout.payment
        pdf.cell(0, 6, _latin1(f"{labels['paid']}: {to_local(p.paid_at).strftime('%d/%m/%Y %H:%M')} "
                               f"{labels['methods'][p.method]} {p.reference} {p.acknowledged_by}".strip()),
                 new_x="LMARGIN", new_y="NEXT")
    else:
        pdf.cell(0, 6, _latin1(labels["unpaid"]), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
