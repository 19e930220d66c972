"""The WhatsApp message templates, one per event, in Indonesian.

Each must be registered (and approved) in Meta's WhatsApp Manager under the same NAME, language
"Indonesian" (code `id`), category "Utility", with the BODY below; {{1}}, {{2}}, … are the parameters in
the order of PARAMS. No body begins or ends with a parameter (Meta refuses those), and parameter values
are sent without newlines, tabs or long runs of spaces (`clean_param`; Meta refuses those too).
The same body, filled in, is the text of the wa.me fallback and of the member's inbox, so all three always
say the same thing. Texts are Indonesian data, not interface strings: a member reads the message WhatsApp
delivered, whatever language the site is shown in.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from marketplace.i18n import lazy_gettext as _l


@dataclass(frozen=True)
class Template:
    name: str  # the template's name in Meta's dashboard
    body: str  # Indonesian, with {{1}}…{{n}}
    params: tuple[str, ...]  # what each parameter is, in order (for the README and for tests)
    label: object  # what the event is called on the preferences page and in the inbox (translated)


SOLD = "sold"
SOLD_DAILY = "sold_daily"
LOW_STOCK = "low_stock"
EXPIRING = "expiring"
AGING = "aging"
STATEMENT_READY = "statement_ready"
STATEMENT_PAID = "statement_paid"
ORDER = "order"
JOIN_ACCEPTED = "join_accepted"
JOIN_DECLINED = "join_declined"
PASSWORD_LINK = "password_link"

TEMPLATES: dict[str, Template] = {
    SOLD: Template(  # one message per sale and member, listing her goods in it
        "pasar_barang_terjual_v2",
        "Halo {{1}}, barang Anda terjual di gerai: {{2}}, seharga {{3}}; bagian Anda {{4}}. Terima kasih.",
        ("owner's name", "items (3 × product, …)", "total of her items (Rp)", "member's share (Rp)"),
        _l("Goods sold")),
    SOLD_DAILY: Template(
        "pasar_ringkasan_penjualan",
        "Halo {{1}}, penjualan barang Anda di gerai pada {{2}}: {{3}} barang, seharga {{4}}; bagian Anda {{5}}. "
        "Terima kasih.",
        ("owner's name", "day", "units sold", "gross (Rp)", "member's share (Rp)"),
        _l("Daily sales summary")),
    LOW_STOCK: Template(
        "pasar_stok_menipis",
        "Halo {{1}}, stok {{2}} di gerai tinggal {{3}}. Silakan antar barang lagi bila perlu.",
        ("owner's name", "product", "units left"),
        _l("Stock running low")),
    EXPIRING: Template(
        "pasar_segera_kedaluwarsa",
        "Halo {{1}}, {{2}} (lot {{3}}, sisa {{4}}) kedaluwarsa pada {{5}}. Mohon diambil atau ditukar.",
        ("owner's name", "product", "lot code", "units left", "best-before date"),
        _l("Goods expiring soon")),
    AGING: Template(
        "pasar_mohon_diambil",
        "Halo {{1}}, {{2}} (lot {{3}}, sisa {{4}}) sudah {{5}} hari di gerai. Mohon diambil kembali atau "
        "hubungi pengurus.",
        ("owner's name", "product", "lot code", "units left", "days on the shelf"),
        _l("Goods to collect")),
    STATEMENT_READY: Template(
        "pasar_laporan_siap",
        "Halo {{1}}, laporan penjualan Anda sampai {{2}} sudah siap. Jumlah yang dibayarkan: {{3}}. Lihat: {{4}} "
        "(masuk dengan akun Anda).",
        ("owner's name", "cut-off date", "payable (Rp)", "link to the statement"),
        _l("Statement ready")),
    STATEMENT_PAID: Template(
        "pasar_pembayaran_terkirim",
        "Halo {{1}}, pembayaran {{2}} untuk laporan sampai {{3}} sudah dilakukan ({{4}}, referensi {{5}}). "
        "Terima kasih.",
        ("owner's name", "amount (Rp)", "cut-off date", "method", "reference"),
        _l("Statement paid")),
    ORDER: Template(
        "pasar_pesanan_daring",
        "Halo {{1}}, ada pesanan daring {{2}} berisi produk Anda: {{3}}. Barang disisihkan di gerai sampai dibayar.",
        ("owner's name", "order number", "items"),
        _l("Online order")),
    JOIN_ACCEPTED: Template(
        "pasar_pendaftaran_diterima",
        "Halo {{1}}, pendaftaran {{2}} di {{3}} diterima. Tautan untuk membuat kata sandi kami kirim terpisah.",
        ("owner's name", "business name", "cooperative"),
        _l("Join request accepted")),
    JOIN_DECLINED: Template(
        "pasar_pendaftaran_ditolak",
        "Halo {{1}}, mohon maaf, pendaftaran {{2}} di {{3}} belum dapat kami terima: {{4}}. Terima kasih atas "
        "minat Anda.",
        ("owner's name", "business name", "cooperative", "reason"),
        _l("Join request declined")),
    PASSWORD_LINK: Template(
        "pasar_tautan_kata_sandi",
        "Halo {{1}}, buka tautan ini untuk membuat kata sandi baru di {{2}} (berlaku {{3}} jam, sekali pakai): {{4}} "
        "— jangan bagikan tautan ini.",
        ("name", "cooperative", "hours valid", "link"),
        _l("Password link")),
}

# Templates replaced by a newer one under another name, kept for the messages queued before the change: the
# number of a row's parameters says which template it was made for. Delete one from Meta's dashboard and from
# here once no row of its shape can still be sent (none pending or failed).
SUPERSEDED: dict[str, tuple[Template, ...]] = {
    SOLD: (Template(  # one message per sale line, until goods sold were told once per sale
        "pasar_barang_terjual",
        "Halo {{1}}, barang Anda terjual di gerai: {{2}} × {{3}}, seharga {{4}}; bagian Anda {{5}}. Terima kasih.",
        ("owner's name", "quantity", "product", "line total (Rp)", "member's share (Rp)"),
        _l("Goods sold")),),
}


def template_for(event: str, param_count: int) -> Template:
    """The template a message of `event` with `param_count` parameters was made for: the current one, or a
    superseded one of that shape (a message queued before the template changed)."""
    current = TEMPLATES[event]
    if len(current.params) != param_count:
        for old in SUPERSEDED.get(event, ()):
            if len(old.params) == param_count:
                return old
    return current


# What a member may switch between WhatsApp and inbox-only on the preferences page (the others always go).
CHOOSABLE = (SOLD, LOW_STOCK, EXPIRING, AGING, STATEMENT_READY, STATEMENT_PAID, ORDER)
ALWAYS_SENT = (JOIN_ACCEPTED, JOIN_DECLINED, PASSWORD_LINK)
# Events with no box of their own, governed by another event's choice: the daily sales summary goes to
# WhatsApp only when "Goods sold" is ticked (the preferences page's "each sale / one summary a day" then
# says how).
CHOICE_OF = {SOLD_DAILY: SOLD}


def choice_of(event: str) -> str:
    """The event whose box on the preferences page decides whether `event` goes to WhatsApp."""
    return CHOICE_OF.get(event, event)

_PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")


def clean_param(value) -> str:
    """WhatsApp refuses template parameters with newlines, tabs or more than four spaces in a row."""
    return re.sub(r"\s+", " ", str(value)).strip() or "-"


def render(event: str, params: list) -> str:
    """The template's body with its parameters filled in."""
    template = template_for(event, len(params))
    values = [clean_param(p) for p in params]
    if len(values) != len(template.params):
        raise ValueError(f"{event} takes {len(template.params)} parameters, got {len(values)}")
    return _PLACEHOLDER.sub(lambda m: values[int(m.group(1)) - 1], template.body)


def label(event: str) -> str:
    template = TEMPLATES.get(event)
    return str(template.label) if template else event
