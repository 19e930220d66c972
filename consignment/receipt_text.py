"""A counter receipt as plain text, for sending to the shopper's WhatsApp (nothing is stored or sent here:
the kasir's phone opens WhatsApp with the text typed in)."""
from __future__ import annotations

from marketplace.i18n import gettext as _
from marketplace.money import format_rupiah
from marketplace.templating import format_datetime

from .forms import payment_method_labels
from .models import Sale


def receipt_text(sale: Sale, cooperative_name: str) -> str:
    lines = [f"*{cooperative_name}*" if cooperative_name else "", f"{_('Receipt')} {sale.number}",
             format_datetime(sale.created_at, "medium")]
    if sale.is_void:
        lines.append(f"*{_('VOID')}*")
    lines.append("")
    for line in sale.lines:
        lines.append(f"{line.product.name}")
        lines.append(f"  {line.quantity} × {format_rupiah(line.unit_price)} = {format_rupiah(line.line_total)}")
    lines += ["", f"*{_('Total')}: {format_rupiah(sale.total)}*"]
    paid = sale.cash_received if sale.cash_received is not None else sale.total
    lines.append(f"{payment_method_labels()[sale.payment_method]}: {format_rupiah(paid)}")
    if sale.payment_method == "cash":
        lines.append(f"{_('Change')}: {format_rupiah(sale.change)}")
    lines += ["", _("Thank you for supporting local UMKM!")]
    return "\n".join(line for i, line in enumerate(lines) if line or i)
