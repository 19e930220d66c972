"""The audit log reads as sentences in the reader's language, filtered by plain-language action."""
import pytest

from consignment import services as gerai
from consignment.services import LineRequest
from marketplace.extensions import db
from marketplace.models import AuditEvent


def _in(client, lang):
    with client.session_transaction() as session:
        session["lang"] = lang


@pytest.mark.parametrize("lang, sentence", [
    ("id", "Kasir Sari menjual 3 × Keripik Pisang Kepok (lot {code}), Rp45.000"),
    ("en", "Cashier Sari sold 3 × Keripik Pisang Kepok (lot {code}), Rp45.000"),
])
def test_a_counter_sale_reads_as_a_sentence(client, login_as, make_user, make_product, make_lot, lang, sentence):
    lot = make_lot(make_product(name="Keripik Pisang Kepok", price=15000), quantity=10)
    gerai.record_counter_sale(make_user("kasir", name="Sari"), [LineRequest(lot.id, 3)], "cash")
    login_as("pengawas")
    _in(client, lang)
    page = client.get("/admin/audit").get_data(as_text=True)
    assert sentence.format(code=lot.code) in page
    assert "sale.record" not in page and "lines=[" not in page


def test_the_filter_by_plain_language_action_shows_only_that_kind(client, login_as, make_user, make_product, make_lot):
    lot = make_lot(make_product(name="Keripik Pisang Kepok", price=15000), quantity=10)
    kasir = make_user("kasir", name="Sari")
    gerai.record_counter_sale(kasir, [LineRequest(lot.id, 1)], "cash")
    gerai.adjust_stock(kasir, lot.id, 1, "damaged", "sobek")
    login_as("pengawas")
    sales = client.get("/admin/audit?aksi=penjualan").get_data(as_text=True)
    stock = client.get("/admin/audit?aksi=stok").get_data(as_text=True)
    assert "Sari menjual" in sales and "dari stok" not in sales
    assert "Sari mengeluarkan 1 × Keripik Pisang Kepok (lot" in stock and "Rusak: sobek" in stock
    assert "Sari menjual" not in stock
    assert "Penjualan di kasir" in sales  # the filter's options are words, not codes


def test_rows_written_before_sentences_still_show(client, login_as):
    db.session.add(AuditEvent(action="product.create", object_type="Product", object_id=65,
                              summary="Amplang price=28000 status=draft"))
    db.session.commit()
    login_as("pengawas")
    assert "Amplang price=28000 status=draft" in client.get("/admin/audit").get_data(as_text=True)
