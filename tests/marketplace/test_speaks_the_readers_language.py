"""Statuses, history reasons, ledger kinds, roles and the system account read in the page's language:
codes are stored, words are chosen when the page is shown."""
import pytest
from sqlalchemy import select

from consignment import services as gerai
from consignment.models import StockMovement
from marketplace.extensions import db
from orders import services as orders


def _in(client, lang):
    with client.session_transaction() as session:
        session["lang"] = lang


@pytest.mark.parametrize("lang, words", [
    ("id", ["dipesan, bayar di gerai", "siap diambil atau diantar", "dibayar di gerai (Tunai)",
            "Menunggu pembayaran → Siap", "Siap → Selesai"]),
    ("en", ["ordered, to pay at the gerai", "ready for pickup or delivery",
            "paid at the gerai (Cash)", "Waiting for payment → Ready", "Ready → Completed"]),
])
def test_order_history_reads_as_words_in_the_page_language(client, login_as, make_product, make_lot, lang, words):
    product = make_product(name="Bingka Kentang", price=45000)
    make_lot(product, quantity=3)
    order = orders.place_order({product.id: 1}, orders.Customer("Budi", "081211112222"), "gerai")
    kasir = login_as("kasir")
    orders.mark_ready(kasir, order.id)
    orders.complete_at_counter(kasir, order.id, "cash", cash_received=50000)
    _in(client, lang)
    page = client.get(f"/gerai/pesanan/{order.id}").get_data(as_text=True)
    for word in words:
        assert word in page
    for code in ("ready for pickup/delivery", "paid_at_gerai", "placed:", "→ ready", "→ completed"):
        assert code not in page


@pytest.mark.parametrize("lang, words", [
    ("id", ["Rusak: sobek", "Ditahan untuk pesanan daring", "Penerimaan", "Sistem (pesanan daring)"]),
    ("en", ["Damaged: sobek", "Held for an online order", "Intake", "System (online orders)"]),
])
def test_the_ledger_names_every_kind_and_reason_in_the_page_language(client, login_as, make_product, make_lot, lang,
                                                                     words):
    lot = make_lot(make_product(name="Bingka Kentang", price=45000), quantity=5)
    orders.place_order({lot.product_id: 1}, orders.Customer("Budi", "081211112222"), "gerai")
    kasir = login_as("kasir")
    gerai.adjust_stock(kasir, lot.id, 1, "damaged", "sobek")
    _in(client, lang)
    page = client.get(f"/gerai/lot/{lot.code}").get_data(as_text=True)
    for word in words:
        assert word in page
    assert "damaged: sobek" not in page and ">penerimaan<" not in page and "<td></td><td class=\"num\">" not in page
    intake = db.session.scalar(select(StockMovement).where(StockMovement.lot_id == lot.id, StockMovement.kind == "intake"))
    assert intake.reason == "intake"  # a code, not a translated word


@pytest.mark.parametrize("lang, words", [("id", "Masuk sebagai pengurus"), ("en", "Signed in as board (pengurus)")])
def test_the_dashboard_names_the_role_in_the_page_language(client, login_as, lang, words):
    login_as("pengurus")
    _in(client, lang)
    assert words in client.get("/dasbor").get_data(as_text=True)
