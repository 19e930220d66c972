"""The kasir's QRIS screen and the POS's hook into it (requests through the test client; Midtrans is the
local stand-in over HTTP)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from consignment import services as gerai
from consignment.models import Sale
from marketplace.extensions import db
from marketplace.once import new_key
from qris import services as qris
from qris.models import CounterPayment


def _fill_pos(client, lot, quantity=3):
    client.post("/gerai/kasir/tambah", data={"kode": lot.code, "jumlah": str(quantity)})


def _show_qr(client, login_as, lot, quantity: int) -> CounterPayment:
    """A kasir puts `quantity` of the lot in the cart and chooses QRIS (Midtrans keys set)."""
    login_as("kasir")
    _fill_pos(client, lot, quantity)
    client.post("/gerai/kasir/bayar", data={"payment_method": "qris", "once": new_key()})
    return db.session.scalar(select(CounterPayment))


@pytest.mark.parametrize("keys", [False, True], ids=["without_keys", "with_keys"])
def test_the_pos_says_which_qris_mode_is_on_and_choosing_qris_follows_it(request, client, login_as, make_lot, keys):
    if keys:
        request.getfixturevalue("midtrans_stub")
    lot = make_lot(quantity=10)  # Rp15.000 each
    login_as("kasir")
    _fill_pos(client, lot)
    pos = client.get("/gerai/kasir").get_data(as_text=True)
    assert ("QRIS dinamis" in pos, "QRIS statis (stiker)" in pos) == (keys, not keys)
    response = client.post("/gerai/kasir/bayar", data={"payment_method": "qris", "payment_reference": "GOPAY-123",
                                                      "expected_total": "45000", "once": new_key()})
    if not keys:  # the static sticker: the kasir checked the shopper's phone and typed the reference
        sale = db.session.scalar(select(Sale))
        assert response.headers["Location"].endswith(f"/gerai/penjualan/{sale.id}/struk")
        assert (sale.payment_method, sale.payment_reference) == ("qris", "GOPAY-123")
        assert db.session.scalars(select(CounterPayment)).all() == []
        return
    payment = db.session.scalar(select(CounterPayment))
    assert response.headers["Location"].endswith(f"/gerai/kasir/qris/{payment.id}")
    page = client.get(f"/gerai/kasir/qris/{payment.id}").get_data(as_text=True)
    assert "Rp45.000" in page and '<svg' in page and 'id="qris-countdown"' in page and "qris.js" in page
    assert db.session.scalars(select(Sale)).all() == [] and gerai.on_hand(lot.id) == 7
    assert f"ditahan selama QRIS {payment.number} dibayar" in client.get(f"/gerai/lot/{lot.code}").get_data(as_text=True)


def test_the_page_only_reads_and_the_post_records_the_paid_sale_with_the_receipt(client, login_as, make_lot,
                                                                                midtrans_stub):
    lot = make_lot(quantity=10)
    payment = _show_qr(client, login_as, lot, 2)
    midtrans_stub.mark(payment.number, "settlement")

    assert client.get(f"/gerai/kasir/qris/{payment.id}").status_code == 200  # GET: nothing recorded
    assert db.session.scalars(select(Sale)).all() == []
    answer = client.post(f"/gerai/kasir/qris/{payment.id}/cek", headers={"Accept": "application/json"}).get_json()
    sale = db.session.scalar(select(Sale))
    assert answer == {"status": "paid", "url": f"/gerai/penjualan/{sale.id}/struk", "message": ""}
    receipt = client.get(answer["url"]).get_data(as_text=True)
    assert "Rp30.000" in receipt and midtrans_stub.statuses[payment.number]["transaction_id"] in receipt
    # The page of a paid QR leads to its receipt.
    assert client.get(f"/gerai/kasir/qris/{payment.id}").headers["Location"].endswith(answer["url"])


def test_an_expired_qr_sends_the_kasir_back_to_the_cart_with_the_reason(client, login_as, make_lot, midtrans_stub):
    lot = make_lot(quantity=10)
    payment = _show_qr(client, login_as, lot, 2)
    midtrans_stub.mark(payment.number, "expire")
    response = client.post(f"/gerai/kasir/qris/{payment.id}/cek")
    assert response.headers["Location"].endswith("/gerai/kasir")
    pos = client.get("/gerai/kasir").get_data(as_text=True)
    assert "Kode QRIS kedaluwarsa sebelum dibayar" in pos and lot.product.name in pos  # still in the cart
    assert db.session.scalars(select(Sale)).all() == [] and gerai.on_hand(lot.id) == 10


def test_a_waiting_qr_keeps_the_kasir_from_selling_the_held_cart_again(client, login_as, make_lot, midtrans_stub):
    lot = make_lot(quantity=10)
    payment = _show_qr(client, login_as, lot, 2)
    assert f'href="/gerai/kasir/qris/{payment.id}"' in client.get("/gerai/kasir").get_data(as_text=True)
    response = client.post("/gerai/kasir/bayar", data={"payment_method": "cash", "once": new_key()})
    assert response.headers["Location"].endswith(f"/gerai/kasir/qris/{payment.id}")
    assert db.session.scalars(select(Sale)).all() == [] and gerai.on_hand(lot.id) == 8
    # The kasir cancels the QR: Midtrans cancels it, the goods are released, the cart sells for cash.
    response = client.post(f"/gerai/kasir/qris/{payment.id}/batal")
    assert response.headers["Location"].endswith("/gerai/kasir")
    assert midtrans_stub.statuses[payment.number]["transaction_status"] == "cancel"
    client.post("/gerai/kasir/bayar", data={"payment_method": "cash", "once": new_key()})
    assert [s.payment_method for s in db.session.scalars(select(Sale))] == ["cash"] and gerai.on_hand(lot.id) == 8


def test_a_signed_notification_for_a_counter_payment_records_its_sale(client, login_as, make_lot, midtrans_stub):
    lot = make_lot(quantity=10)
    payment = _show_qr(client, login_as, lot, 1)
    midtrans_stub.mark(payment.number, "settlement")
    forged = client.post("/payments/midtrans/notification", json=midtrans_stub.signed(payment.number, key="x"))
    assert forged.status_code == 403 and db.session.scalars(select(Sale)).all() == []
    for _ in range(3):
        answer = client.post("/payments/midtrans/notification", json=midtrans_stub.signed(payment.number))
        assert answer.get_json() == {"status": "ok", "payment_status": "paid"}
    assert len(db.session.scalars(select(Sale)).all()) == 1


def test_a_qris_payment_that_arrived_after_its_code_ended_is_shown_on_the_pos_until_a_pengurus_refunds_it(
        client, auth, login_as, make_lot, midtrans_stub):
    lot = make_lot(quantity=10)
    payment = _show_qr(client, login_as, lot, 1)
    midtrans_stub.mark(payment.number, "expire")
    qris.handle_notification(midtrans_stub.signed(payment.number))
    midtrans_stub.mark(payment.number, "settlement")  # the shopper's money arrived after all
    qris.handle_notification(midtrans_stub.signed(payment.number))
    client.post("/gerai/kasir/kosongkan")  # the kasir moved on: the cart is empty, the notice still shows
    assert "dibayar setelah kodenya berakhir" in client.get("/gerai/kasir").get_data(as_text=True)
    assert "dibayar setelah kodenya berakhir" in client.get("/dasbor").get_data(as_text=True)
    assert client.post(f"/gerai/kasir/qris/{payment.id}/dikembalikan",
                       data={"note": "transfer BRI 123", "once": new_key()}).status_code == 403  # a kasir may not

    auth.logout()
    login_as("pengurus")
    page = client.get(f"/gerai/kasir/qris/{payment.id}").get_data(as_text=True)
    assert "Catat pengembalian" in page
    client.post(f"/gerai/kasir/qris/{payment.id}/dikembalikan", data={"note": "transfer BRI 123", "once": new_key()})
    db.session.expire_all()
    assert db.session.get(CounterPayment, payment.id).status == "refunded"
    assert "dibayar setelah kodenya berakhir" not in client.get("/gerai/kasir").get_data(as_text=True)
    assert db.session.scalars(select(Sale)).all() == []
