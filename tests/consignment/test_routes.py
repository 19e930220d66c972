"""Request tests: what the gerai pages do (who may use them: tests/test_permissions.py)."""
import re

import pytest
from sqlalchemy import func, select

from consignment import services
from consignment.models import ConsignmentLot, Sale
from marketplace.extensions import db
from marketplace.once import new_key

@pytest.fixture
def shop(make_user, make_lot):
    lot = make_lot(quantity=10)
    sale = services.record_counter_sale(make_user("kasir"), [services.LineRequest(lot.id, 1)], "cash")
    slip = services.return_to_member(make_user("kasir"), lot.member_id, [services.LineRequest(lot.id, 1)])
    return {"lot": lot, "sale": sale, "slip": slip}


def test_kasir_receives_goods_and_gets_labels_with_barcode(client, login_as, make_product):
    product = make_product(name="Keripik Pisang Kepok 250 g", price=15000)
    login_as("kasir")
    response = client.post("/gerai/terima", data={"product_id": product.id, "quantity": "40", "unit_price": "",
                                                  "expiry_date": "", "note": "", "once": new_key()})
    lot = db.session.scalar(select(ConsignmentLot))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/gerai/lot/{lot.code}")
    assert services.on_hand(lot.id) == 40
    labels = client.get(f"/gerai/lot/{lot.code}/label").get_data(as_text=True)
    assert labels.count('class="label"') == 40
    assert "Rp15.000" in labels and f'aria-label="{lot.code}"' in labels and "<rect" in labels
    receipt = client.get(f"/gerai/lot/{lot.code}/tanda-terima").get_data(as_text=True)
    assert f"https://wa.me/{product.member.whatsapp}?text=" in receipt


def test_intake_of_a_new_product_registers_a_draft_for_the_member(client, login_as, make_member):
    member = make_member()
    login_as("kasir")
    client.post("/gerai/terima", data={"product_id": "", "new_member_id": member.id, "new_name": "Bingka Kentang",
                                       "new_unit": "loyang", "quantity": "5", "unit_price": "45.000", "once": new_key()})
    lot = db.session.scalar(select(ConsignmentLot))
    assert (lot.product.name, lot.product.status, lot.product.member_id, lot.unit_price) == \
        ("Bingka Kentang", "draft", member.id, 45000)


def test_intake_form_keeps_input_and_explains_a_missing_product(client, login_as):
    login_as("kasir")
    response = client.post("/gerai/terima", data={"product_id": "", "quantity": "12", "note": "titipan pagi"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'value="12"' in page and 'value="titipan pagi"' in page
    assert db.session.scalar(select(func.count(ConsignmentLot.id))) == 0


def test_pos_sells_by_scanned_code_shows_change_and_receipt(client, login_as, make_lot):
    lot = make_lot(quantity=40)
    login_as("kasir")
    client.post("/gerai/kasir/tambah", data={"kode": lot.code.lower(), "jumlah": "3"})
    page = client.get("/gerai/kasir").get_data(as_text=True)
    assert lot.product.name in page and "Rp45.000" in page
    response = client.post("/gerai/kasir/bayar", data={"payment_method": "cash", "cash_received": "50.000",
                                                          "once": new_key()})
    sale = db.session.scalar(select(Sale))
    assert response.headers["Location"].endswith(f"/gerai/penjualan/{sale.id}/struk")
    receipt = client.get(f"/gerai/penjualan/{sale.id}/struk").get_data(as_text=True)
    assert "Rp45.000" in receipt and "Rp5.000" in receipt  # total and change
    assert services.on_hand(lot.id) == 37
    assert "Belum ada barang" in client.get("/gerai/kasir").get_data(as_text=True)  # cart emptied


def test_pos_search_by_name_when_the_typed_text_is_not_a_code(client, login_as, make_product, make_lot):
    lot = make_lot(make_product(name="Amplang Ikan Tenggiri"), quantity=4)
    login_as("kasir")
    response = client.post("/gerai/kasir/tambah", data={"kode": "amplang"})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Amplang Ikan Tenggiri" in page and lot.code in page


def test_pos_refuses_to_sell_more_than_on_hand_and_keeps_the_cart(client, login_as, make_lot):
    lot = make_lot(quantity=2)
    login_as("kasir")
    client.post("/gerai/kasir/tambah", data={"kode": lot.code, "jumlah": "3"})
    response = client.post("/gerai/kasir/bayar", data={"payment_method": "qris", "once": new_key()})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "tinggal 2" in page and lot.product.name in page
    assert services.on_hand(lot.id) == 2


def test_pengurus_voids_a_sale_with_a_reason(client, login_as, shop):
    login_as("pengurus")
    client.post(f"/gerai/penjualan/{shop['sale'].id}", data={"reason": "salah scan", "once": new_key()})
    db.session.expire_all()
    assert services.get_sale(shop["sale"].id).is_void
    assert services.on_hand(shop["lot"].id) == 9  # 10 - 1 sold + 1 voided - 1 returned


def test_kasir_returns_goods_to_member_with_a_slip(client, login_as, make_lot):
    lot = make_lot(quantity=8)
    login_as("kasir")
    response = client.post("/gerai/retur", data={"anggota": lot.member_id, f"qty-{lot.id}": "5", "note": "sisa",
                                                   "once": new_key()})
    assert response.status_code == 302
    slip = client.get(response.headers["Location"]).get_data(as_text=True)
    assert lot.code in slip and ">5<" in slip
    assert services.on_hand(lot.id) == 3


def test_adjustment_from_the_lot_page(client, login_as, make_lot):
    lot = make_lot(quantity=8)
    login_as("kasir")
    client.post(f"/gerai/lot/{lot.code}", data={"reason": "damaged", "quantity": "2", "note": "kemasan bocor",
                                                  "once": new_key()})
    assert services.on_hand(lot.id) == 6


def test_member_sees_own_lots_and_sales_only(client, login_as, make_user, make_product, make_lot):
    member = login_as("member")
    mine = make_lot(make_product(member, name="Produk Saya"), quantity=5)
    theirs = make_lot(make_product(name="Produk Orang"), quantity=5)
    services.record_counter_sale(make_user("kasir"), [services.LineRequest(mine.id, 2),
                                                      services.LineRequest(theirs.id, 1)], "cash")
    page = client.get("/gerai/saya").get_data(as_text=True)
    assert "Produk Saya" in page and "Produk Orang" not in page and theirs.code not in page


def test_a_members_recent_sales_show_when_what_her_share_and_which_were_voided(client, login_as, make_user,
                                                                              make_product, make_lot):
    import re

    member = login_as("member")
    lot = make_lot(make_product(member, name="Amplang Ikan", price=20000), quantity=5)
    kasir = make_user("kasir")
    kept = services.record_counter_sale(kasir, [services.LineRequest(lot.id, 2)], "cash")
    voided = services.record_counter_sale(kasir, [services.LineRequest(lot.id, 1)], "cash")
    services.void_sale(make_user("pengurus"), voided.id, "salah input")
    page = client.get("/gerai/saya").get_data(as_text=True)
    rows = re.findall(r'<tr[^>]*><td data-label="Waktu">.*?</tr>', page)
    assert len(rows) == 2  # newest first: the voided sale, then the kept one
    assert rows[0].startswith('<tr class="muted">') and "batal" in rows[0] and "Amplang Ikan" in rows[0]
    share = kept.lines[0].line_total - kept.lines[0].commission
    assert "batal" not in rows[1] and "Amplang Ikan" in rows[1]
    assert f'data-label="Bagian saya" class="num">Rp{share:,}'.replace(",", ".") in rows[1]


def test_a_members_goods_are_listed_from_rows_with_what_came_in_sold_and_is_left(client, login_as, make_user,
                                                                                 make_product, make_lot):
    """The lots table (the member's goods, the gerai's stock, returns, aging) reads each lot as one row with its
    product's and member's names: no lot, product or member objects are built for it."""
    import re

    from sqlalchemy import event

    from catalog.models import Product
    from consignment.models import ConsignmentLot
    from marketplace.models import Member

    member = login_as("member")
    lot = make_lot(make_product(member, name="Amplang Ikan", price=20000), quantity=5)
    services.record_counter_sale(make_user("kasir"), [services.LineRequest(lot.id, 2)], "cash")
    built = []
    listeners = [(cls, lambda target, context: built.append(type(target).__name__))
                 for cls in (ConsignmentLot, Product, Member)]
    for cls, listener in listeners:
        event.listen(cls, "load", listener)
    try:
        page = client.get("/gerai/saya").get_data(as_text=True)
    finally:
        for cls, listener in listeners:
            event.remove(cls, "load", listener)
    assert set(built) <= {"Member"}  # the signed-in member's own profile, nothing per lot
    row = re.search(rf'<td data-label="Kode">{lot.code}</td>.*?</tr>', page, re.S).group(0)
    assert "Amplang Ikan" in row and "Rp20.000" in row
    assert re.findall(r'class="num">(?:<strong>)?(\d+)', row) == ["5", "2", "3"]  # in, sold, on hand


def test_reports_show_totals_and_download_csv(client, login_as, shop):
    login_as("pengurus")
    page = client.get("/gerai/laporan/penjualan").get_data(as_text=True)
    assert "<svg" in page and "Rp15.000" in page
    csv_text = client.get("/gerai/laporan/penjualan?per=member&format=csv").get_data(as_text=True)
    assert csv_text.splitlines()[0] == "key,label,units,gross_idr,commission_idr,member_share_idr"
    assert ",1,15000," in csv_text
    stock_csv = client.get("/gerai/laporan/stok?format=csv").get_data(as_text=True)
    assert ",8,120000" in stock_csv


def test_receipt_goes_to_the_shoppers_whatsapp_as_text_and_reads_on_a_phone(client, login_as, make_lot):
    from urllib.parse import parse_qs, urlsplit

    from marketplace.models import AuditEvent

    lot = make_lot(quantity=10, product=None)
    kasir = login_as("kasir")
    sale = services.record_counter_sale(kasir, [services.LineRequest(lot.id, 3)], "cash", cash_received=50000)
    events = db.session.scalar(select(func.count(AuditEvent.id)))
    page = client.get(f"/gerai/penjualan/{sale.id}/struk?wa=0812-3333-4444").get_data(as_text=True)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    link = re.search(r'href="(https://wa\.me/[^"]+)"', page).group(1).replace("&amp;", "&")
    parts = urlsplit(link)
    assert parts.path == "/6281233334444"
    text = parse_qs(parts.query)["text"][0]
    assert sale.number in text and lot.product.name in text
    assert "3 × Rp15.000 = Rp45.000" in text and "Total: Rp45.000" in text and "Kembalian: Rp5.000" in text
    assert db.session.scalar(select(func.count(AuditEvent.id))) == events  # nothing written, nothing sent

    without_number = client.get(f"/gerai/penjualan/{sale.id}/struk?wa=12").get_data(as_text=True)
    assert 'href="https://wa.me/?text=' in without_number and 'role="alert"' in without_number


def test_intake_asks_before_registering_a_second_product_with_the_same_name(client, login_as, make_product):
    existing = make_product(name="Bingka Kentang")
    login_as("kasir")
    data = {"product_id": "", "new_member_id": existing.member_id, "new_name": "Bingka Kentang",
            "quantity": "5", "unit_price": "45.000", "once": new_key()}
    asked = client.post("/gerai/terima", data=data)
    assert asked.status_code == 422 and 'name="new_same_name_ok"' in asked.get_data(as_text=True)
    assert db.session.scalar(select(func.count(ConsignmentLot.id))) == 0
    assert client.post("/gerai/terima", data={**data, "new_same_name_ok": "y"}).status_code == 302
    assert db.session.scalar(select(func.count(ConsignmentLot.id))) == 1
