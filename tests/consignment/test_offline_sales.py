"""Sales made offline on the kasir's phone and synced later: exactly once (also from two workers at once),
dated when they happened, by the kasir whose signed token they carry; an oversold lot gets a discrepancy that
pengurus resolves with an audited correction; online orders holding that lot are flagged.
Runs on SQLite and PostgreSQL (TEST_DATABASE_URL)."""
import uuid
from datetime import timedelta, timezone

import pytest
from sqlalchemy import func, select

from consignment import offline, services
from consignment.models import Sale, StockDiscrepancy
from consignment.offline import OfflineLine
from marketplace.audit import AuditEvent, describe
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.models import User
from marketplace.timeutil import utcnow


def _sync(kasir, lot, quantity=1, *, when=None, key=None, token=None, cash=None, synced_by=None):
    return offline.sync_offline_sale(key or str(uuid.uuid4()), token or offline.kasir_token(kasir),
                                     when or utcnow() - timedelta(minutes=30), [OfflineLine(lot.code, quantity)],
                                     cash, synced_by=synced_by)


def _offline_sales() -> int:
    return db.session.scalar(select(func.count(Sale.id)).where(Sale.channel == "offline"))


def test_a_synced_sale_is_recorded_once_dated_when_it_happened(app, make_user, make_lot):
    kasir = make_user("kasir")
    lot = make_lot(quantity=5)
    sold_at = (utcnow() - timedelta(hours=3)).replace(microsecond=0)
    key = str(uuid.uuid4())
    first = _sync(kasir, lot, 2, when=sold_at, key=key, cash=50000)
    again = _sync(kasir, lot, 2, when=sold_at, key=key, cash=50000)  # the response was lost: sent again
    assert again == first and first["status"] == "recorded"
    assert _offline_sales() == 1
    sale = db.session.get(Sale, first["sale_id"])
    assert sale.created_at == sold_at and sale.cashier_id == kasir.id and sale.cash_received == 50000
    assert sale.number.startswith(f"J{sold_at:%y%m%d}")
    assert services.on_hand(lot.id) == 3


def test_the_same_sale_synced_by_two_workers_at_once_is_recorded_once(app, make_user, make_lot, at_once):
    kasir = make_user("kasir")
    lot = make_lot(quantity=5)
    key, token, code = str(uuid.uuid4()), offline.kasir_token(kasir), lot.code
    when = utcnow() - timedelta(minutes=5)

    def sync():
        return offline.sync_offline_sale(key, token, when, [OfflineLine(code, 1)])

    results = at_once(sync, sync, sync)
    assert all(isinstance(r, dict) for r in results), results
    assert results[0] == results[1] == results[2]
    assert _offline_sales() == 1
    assert services.on_hand(lot.id) == 4


def test_a_sale_belongs_to_the_kasir_of_its_token_whoever_syncs_it(app, make_user, make_lot):
    sari, budi = make_user("kasir", name="Sari"), make_user("kasir", name="Budi")
    lot = make_lot(quantity=5)
    result = _sync(sari, lot, synced_by=budi)  # Budi signed in on the same phone later; the queue syncs
    sale = db.session.get(Sale, result["sale_id"])
    assert sale.cashier_id == sari.id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sale.offline"))
    assert event.actor_id == sari.id and sale.number in describe(event)


def test_a_forged_token_or_a_switched_off_kasir_is_refused(app, make_user, make_lot):
    kasir = make_user("kasir")
    lot = make_lot(quantity=5)
    token = offline.kasir_token(kasir)
    with pytest.raises(DomainError):
        _sync(kasir, lot, token=token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    with pytest.raises(DomainError):
        _sync(kasir, lot, token="eyJ1IjoxfQ.forged.signature")
    member = make_user("member")
    with pytest.raises(DomainError):
        _sync(member, lot)  # a member's id in a validly signed token still cannot sell
    db.session.get(User, kasir.id).active = False
    db.session.commit()
    with pytest.raises(DomainError):
        _sync(kasir, lot, token=token)
    assert _offline_sales() == 0 and services.on_hand(lot.id) == 5


def test_a_sale_sent_again_after_its_kasir_was_switched_off_returns_its_first_answer(app, make_user, make_lot):
    """The phone's first sync was recorded but its answer was lost; the kasir was switched off before the
    phone sent it again: the re-send gets the first answer (recorded), not a refusal the phone would keep."""
    kasir = make_user("kasir")
    lot = make_lot(quantity=5)
    key, token = str(uuid.uuid4()), offline.kasir_token(kasir)
    first = _sync(kasir, lot, 1, key=key, token=token)
    db.session.get(User, kasir.id).active = False
    db.session.commit()
    assert _sync(kasir, lot, 1, key=key, token=token) == first
    with pytest.raises(DomainError):
        _sync(kasir, lot, 1, token=token)  # a new sale of that kasir is still refused
    assert _offline_sales() == 1 and services.on_hand(lot.id) == 4


def test_a_refused_sale_is_written_to_the_audit_log_for_the_pengurus(client, login_as, make_user, make_lot):
    login_as("kasir")
    gone = make_user("kasir", name="Rina")
    lot = make_lot(quantity=3)
    token = offline.kasir_token(gone)
    db.session.get(User, gone.id).active = False
    db.session.commit()
    sale = {"uuid": str(uuid.uuid4()), "token": token, "sold_at": (utcnow() - timedelta(minutes=5)).isoformat() + "Z",
            "lines": [{"code": lot.code, "quantity": 2}]}
    answer = client.post("/gerai/kasir/sinkron", json={"sales": [sale]}).json["results"][0]
    assert answer["status"] == "refused"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sale.offline_refused"))
    text = describe(event)
    assert answer["message"] in text and f"2 × {lot.code}" in text and _offline_sales() == 0


def test_replaying_a_sale_with_another_kasirs_token_changes_nothing(app, make_user, make_lot):
    sari, budi = make_user("kasir"), make_user("kasir")
    lot = make_lot(quantity=5)
    key = str(uuid.uuid4())
    first = _sync(sari, lot, key=key)
    with pytest.raises(DomainError):
        _sync(budi, lot, key=key)
    assert db.session.get(Sale, first["sale_id"]).cashier_id == sari.id and _offline_sales() == 1


@pytest.mark.parametrize("delta", [timedelta(hours=1), timedelta(days=offline.OFFLINE_SALE_MAX_DAYS, hours=1)])
def test_a_sale_dated_in_the_future_or_too_long_ago_is_refused(app, make_user, make_lot, delta):
    kasir = make_user("kasir")
    lot = make_lot(quantity=5)
    when = utcnow() + delta if delta < timedelta(days=1) else utcnow() - delta
    with pytest.raises(DomainError):
        _sync(kasir, lot, when=when)
    assert _offline_sales() == 0


def test_an_oversold_offline_sale_is_recorded_with_a_discrepancy_resolved_by_pengurus(app, make_user, make_lot):
    kasir, pengurus = make_user("kasir"), make_user("pengurus")
    lot = make_lot(quantity=1)
    services.record_counter_sale(kasir, [services.LineRequest(lot.id, 1)], "cash")  # the last unit sold online
    result = _sync(kasir, lot, 2)  # meanwhile the phone, offline, sold two
    assert result["status"] == "recorded" and result["discrepancies"] == 1
    assert services.on_hand(lot.id) == -2
    found = db.session.scalar(select(StockDiscrepancy))
    assert found.quantity == 2 and found.is_open and offline.count_open_discrepancies() == 1

    with pytest.raises(DomainError):
        offline.resolve_discrepancy(pengurus, found.id, "", counted=0)
    with pytest.raises(DomainError):
        offline.resolve_discrepancy(pengurus, found.id, "a negative count", counted=-1)
    offline.resolve_discrepancy(pengurus, found.id, "the shelf is empty", counted=0, once_key="resolve-key-0001")
    offline.resolve_discrepancy(pengurus, found.id, "the shelf is empty", counted=0, once_key="resolve-key-0001")
    with pytest.raises(DomainError):
        offline.resolve_discrepancy(pengurus, found.id, "again with another form", counted=0)
    assert services.on_hand(lot.id) == 0 and services.ledger_mismatches() == []
    assert offline.count_open_discrepancies() == 0
    sold = db.session.scalar(select(func.sum(Sale.total)))
    assert sold == 3 * lot.unit_price  # the money of all three units is kept
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"stock.discrepancy", "stock.discrepancy_resolve"} <= actions


def test_an_offline_sale_of_units_held_for_an_online_order_flags_the_order(app, make_user, make_lot):
    from orders import services as orders
    from orders.services import Customer

    kasir = make_user("kasir")
    lot = make_lot(quantity=1)
    order = orders.place_order({lot.product_id: 1}, Customer(name="Ani", phone="081234567890"), "gerai")
    assert offline.orders_hit_by_discrepancies([order.id]) == set()
    _sync(kasir, lot, 1)  # the phone sold the held unit while offline
    assert offline.orders_hit_by_discrepancies([order.id]) == {order.id}


def test_the_sync_endpoint_answers_each_sale_in_order_and_the_same_when_sent_again(client, login_as, make_lot, make_user):
    kasir = login_as("kasir")
    lot = make_lot(quantity=3)
    sales = [{"uuid": str(uuid.uuid4()), "token": offline.kasir_token(kasir), "cash_received": 20000,
              "sold_at": (utcnow() - timedelta(minutes=9 - i)).isoformat() + "Z",
              "lines": [{"code": lot.code, "quantity": 1}]} for i in range(2)]
    sales.append({"uuid": "not-a-uuid", "token": "x", "sold_at": "nonsense", "lines": []})
    first = client.post("/gerai/kasir/sinkron", json={"sales": sales})
    again = client.post("/gerai/kasir/sinkron", json={"sales": sales})
    assert first.status_code == 200 and first.json == again.json
    assert [r["status"] for r in first.json["results"]] == ["recorded", "recorded", "refused"]
    assert _offline_sales() == 2 and services.on_hand(lot.id) == 1
    assert client.post("/gerai/kasir/sinkron", json={"sales": "x"}).status_code == 400


def test_the_snapshot_lists_lots_with_stock_for_the_phone(client, login_as, make_lot):
    login_as("kasir")
    lot = make_lot(quantity=4)
    empty = make_lot(quantity=1)
    services.record_counter_sale(db.session.get(User, empty.received_by_id), [services.LineRequest(empty.id, 1)], "cash")
    body = client.get("/gerai/kasir/stok.json").json
    assert [row["code"] for row in body["lots"]] == [lot.code]
    assert body["lots"][0] == {"code": lot.code, "name": lot.product.name, "price": lot.unit_price,
                               "member": lot.member.business_name, "on_hand": 4}


def test_the_pos_finds_lots_by_member_name_as_the_kasir_types(client, login_as, make_lot, make_member, make_product):
    login_as("kasir")
    member = make_member(business_name="Dapur Galuh")
    lot = make_lot(product=make_product(member, name="Bingka Kentang"), quantity=3)
    page = client.get("/gerai/kasir/cari?q=galuh").get_data(as_text=True)
    assert "Bingka Kentang" in page and lot.code in page
    assert "Bingka" not in client.get("/gerai/kasir/cari?q=zzzz").get_data(as_text=True)


def test_a_pay_at_gerai_order_is_collected_from_the_pos_by_its_number(client, login_as, make_lot):
    from orders import services as orders

    login_as("kasir")
    lot = make_lot(quantity=3)
    order = orders.place_order({lot.product_id: 1}, orders.Customer(name="Ani", phone="081234567890"), "gerai")
    assert order.number in client.get("/gerai/kasir").get_data(as_text=True)  # listed to pick
    response = client.post("/gerai/kasir/tambah", data={"kode": order.number.lower()})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/gerai/pesanan/{order.id}")


def test_the_offline_shell_and_its_service_worker_are_served_for_the_pos_scope(client, login_as):
    login_as("kasir")
    shell = client.get("/gerai/kasir/luring").get_data(as_text=True)
    assert 'data-shell="1"' in shell and "pos-offline.js" in shell
    worker = client.get("/gerai/kasir/sw.js")
    assert worker.headers["Service-Worker-Allowed"] == "/gerai/kasir" and "caches" in worker.get_data(as_text=True)
    manifest = client.get("/gerai/kasir/manifest.webmanifest").json
    assert manifest["start_url"] == "/gerai/kasir" and manifest["scope"] == "/gerai/kasir"


def test_open_discrepancies_are_listed_on_the_dashboard_and_resolved_by_pengurus(client, login_as, make_user, make_lot):
    kasir = make_user("kasir")
    lot = make_lot(quantity=1)
    _sync(kasir, lot, 2)
    login_as("pengurus")
    assert "discrepancies-notice" in client.get("/dasbor").get_data(as_text=True)
    found = offline.open_discrepancies()[0]
    page = client.get("/gerai/selisih").get_data(as_text=True)
    assert 'name="counted"' in page and 'name="expected" value="-1"' in page  # the ledger expects -1: count it
    response = client.post(f"/gerai/selisih/{found.id}", data={"note": "rak kosong", "counted": "", "once": "j" * 20})
    assert response.status_code == 422 and services.on_hand(lot.id) == -1  # no count, no correction
    response = client.post(f"/gerai/selisih/{found.id}",
                           data={"note": "rak kosong", "counted": "0", "expected": "-1", "once": "k" * 20})
    assert response.status_code == 302
    assert services.on_hand(lot.id) == 0 and offline.count_open_discrepancies() == 0
    assert "discrepancies-notice" not in client.get("/dasbor").get_data(as_text=True)


def test_the_lot_page_shows_its_open_discrepancy(client, login_as, make_user, make_lot):
    lot = make_lot(quantity=1)
    sale = _sync(make_user("kasir"), lot, 2)
    login_as("kasir")
    page = client.get(f"/gerai/lot/{lot.code}").get_data(as_text=True)
    assert 'class="flash flash-error discrepancy"' in page and sale["number"] in page


def test_the_sync_endpoint_refuses_a_request_without_the_csrf_token(app, client, login_as, make_lot):
    kasir = login_as("kasir")
    lot = make_lot(quantity=3)
    app.config["WTF_CSRF_ENABLED"] = True
    sale = {"uuid": str(uuid.uuid4()), "token": offline.kasir_token(kasir), "sold_at": utcnow().isoformat() + "Z",
            "lines": [{"code": lot.code, "quantity": 1}]}
    assert client.post("/gerai/kasir/sinkron", json={"sales": [sale]}).status_code == 400
    csrf = client.get("/gerai/kasir/stok.json").json["csrf"]
    answer = client.post("/gerai/kasir/sinkron", json={"sales": [sale]}, headers={"X-CSRFToken": csrf})
    assert answer.status_code == 200 and answer.json["results"][0]["status"] == "recorded"


def test_the_phone_can_ask_for_a_fresh_csrf_token_without_the_whole_list(client, login_as, make_lot):
    login_as("kasir")
    make_lot(quantity=2)
    assert set(client.get("/gerai/kasir/stok.json?hanya=token").json) == {"csrf"}


def test_a_sale_made_offline_for_days_is_recorded_with_the_token_of_the_pos_it_last_loaded(app, make_user, make_lot,
                                                                                           monkeypatch):
    """The token's age counts to the sale, not to the sync: a phone offline from day 0 syncs on day 8.5 a
    sale made on day 7 (1.5 days old) with the token it got on day 0."""
    kasir = make_user("kasir")
    lot = make_lot(quantity=5)
    day0 = utcnow() - timedelta(days=8, hours=12)
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: day0.replace(tzinfo=timezone.utc).timestamp())
    token = offline.kasir_token(kasir)
    monkeypatch.undo()
    assert _sync(kasir, lot, 1, when=day0 + timedelta(days=7), token=token)["status"] == "recorded"
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: (day0 - timedelta(days=9)).replace(
        tzinfo=timezone.utc).timestamp())
    stale = offline.kasir_token(kasir)  # a token from long before the sale is refused
    monkeypatch.undo()
    with pytest.raises(DomainError):
        _sync(kasir, lot, 1, when=day0 + timedelta(days=7), token=stale)


def test_voiding_an_oversold_offline_sale_closes_its_discrepancy_without_a_correction(app, make_user, make_lot):
    kasir, pengurus = make_user("kasir"), make_user("pengurus")
    lot = make_lot(quantity=1)
    services.record_counter_sale(kasir, [services.LineRequest(lot.id, 1)], "cash")
    result = _sync(kasir, lot, 1)  # scanned by mistake offline: the ledger goes to -1
    found = db.session.scalar(select(StockDiscrepancy))
    services.void_sale(pengurus, result["sale_id"], "scanned by mistake")
    assert services.on_hand(lot.id) == 0  # the void put the unit back: nothing to correct
    db.session.refresh(found)
    assert not found.is_open and found.resolution_movement_id is None
    assert offline.count_open_discrepancies() == 0
    with pytest.raises(DomainError):
        offline.resolve_discrepancy(pengurus, found.id, "count again", counted=0)
    assert services.on_hand(lot.id) == 0 and services.ledger_mismatches() == []


def _movement_total(lot_id: int, kind: str) -> int:
    from consignment.models import StockMovement

    return int(db.session.scalar(select(func.coalesce(func.sum(StockMovement.quantity), 0))
                                 .where(StockMovement.lot_id == lot_id, StockMovement.kind == kind)))


def test_a_discrepancy_resolved_while_an_order_holds_the_unit_leaves_no_phantom_unit_when_it_is_cancelled(
        app, make_user, make_lot):
    """The online order held the only unit, the offline sale sold it, pengurus counts an empty shelf: the
    ledger already expects nothing in the gerai, so no correction; cancelling the order then gives back
    a unit the ledger had lent it, and the lot ends at 0 — as on the shelf."""
    from orders import services as orders

    kasir, pengurus = make_user("kasir"), make_user("pengurus")
    lot = make_lot(quantity=1)
    order = orders.place_order({lot.product_id: 1}, orders.Customer(name="Ani", phone="081234567890"), "gerai")
    _sync(kasir, lot, 1)  # the phone sold the held unit offline: the ledger goes to -1
    found = db.session.scalar(select(StockDiscrepancy))
    shelf = offline.shelf_expectations([lot.id])[lot.id]
    assert (shelf.balance, shelf.held, shelf.awaiting, shelf.expected) == (-1, 1, 0, 0)
    offline.resolve_discrepancy(pengurus, found.id, "the shelf is empty", counted=0, expected=0)
    assert services.on_hand(lot.id) == -1 and _movement_total(lot.id, "adjustment") == 0
    assert offline.orders_hit_by_discrepancies([order.id]) == {order.id}  # its goods are not all there
    orders.cancel_order(pengurus, order.id, "the goods were sold at the counter")
    assert services.on_hand(lot.id) == 0 and services.ledger_mismatches() == []
    assert db.session.scalar(select(func.sum(Sale.total))) == lot.unit_price  # the one unit sold is paid for


def test_a_discrepancy_resolved_after_the_other_sale_of_the_unit_was_voided_adds_nothing(app, make_user, make_lot):
    kasir, pengurus = make_user("kasir"), make_user("pengurus")
    lot = make_lot(quantity=1)
    counter = services.record_counter_sale(kasir, [services.LineRequest(lot.id, 1)], "cash")
    _sync(kasir, lot, 1)  # the same unit sold offline too: -1
    services.void_sale(pengurus, counter.id, "recorded twice by mistake")
    assert services.on_hand(lot.id) == 0
    found = db.session.scalar(select(StockDiscrepancy))
    assert found.is_open  # the other sale was voided, not the offline one
    offline.resolve_discrepancy(pengurus, found.id, "the shelf is empty", counted=0)
    assert services.on_hand(lot.id) == 0 and _movement_total(lot.id, "adjustment") == 0
    assert offline.count_open_discrepancies() == 0 and services.ledger_mismatches() == []


def test_a_count_corrects_the_lot_to_what_is_there_and_settles_all_its_discrepancies(app, make_user, make_lot):
    kasir, pengurus = make_user("kasir"), make_user("pengurus")
    lot = make_lot(quantity=2)
    services.record_counter_sale(kasir, [services.LineRequest(lot.id, 2)], "cash")
    _sync(kasir, lot, 1)
    _sync(kasir, lot, 2)  # two offline sales beyond the ledger: -3, two discrepancies
    first = offline.open_discrepancies()[0]
    offline.resolve_discrepancy(pengurus, first.id, "one pack behind the others", counted=1)
    assert services.on_hand(lot.id) == 1  # -3 + 4: the one pack found can be sold again, no more
    assert _movement_total(lot.id, "adjustment") == 4 and offline.count_open_discrepancies() == 0
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "stock.discrepancy_resolve")).one()
    assert "1" in describe(event) and "+4" in describe(event) and lot.code in describe(event)


def test_a_count_made_before_the_lot_moved_is_refused(app, make_user, make_lot):
    kasir, pengurus = make_user("kasir"), make_user("pengurus")
    lot = make_lot(quantity=1)
    services.record_counter_sale(kasir, [services.LineRequest(lot.id, 1)], "cash")
    _sync(kasir, lot, 1)
    found = db.session.scalar(select(StockDiscrepancy))
    shown = offline.shelf_expectations([lot.id])[lot.id].expected
    # meanwhile another pengurus finds three packs in the store room
    services.adjust_stock(pengurus, lot.id, 3, "count_correction", "three found in the store room")
    with pytest.raises(DomainError):
        offline.resolve_discrepancy(pengurus, found.id, "counted the shelf", counted=0, expected=shown)
    assert services.on_hand(lot.id) == 2 and found.is_open


def test_units_paid_online_and_waiting_to_be_handed_over_count_as_in_the_gerai(app, make_user, make_lot,
                                                                             midtrans_stub):
    from orders import services as orders

    kasir, pengurus = make_user("kasir"), make_user("pengurus")
    lot = make_lot(quantity=2)
    order = orders.place_order({lot.product_id: 1}, orders.Customer(name="Ani", phone="081234567890"), "midtrans")
    orders.apply_gateway_status(order.id, {"order_id": order.number, "transaction_id": "t-1",
                                           "transaction_status": "settlement", "gross_amount": str(order.total)})
    _sync(kasir, lot, 2)  # offline: both packs sold, one of them set aside for the paid order: -1
    shelf = offline.shelf_expectations([lot.id])[lot.id]
    assert (shelf.balance, shelf.held, shelf.awaiting) == (-1, 0, 1)
    assert offline.orders_hit_by_discrepancies([order.id]) == {order.id}
    offline.resolve_discrepancy(pengurus, offline.open_discrepancies()[0].id, "nothing left", counted=0)
    assert services.on_hand(lot.id) == -1  # short by the paid order's unit, which it cannot be handed
    assert offline.orders_hit_by_discrepancies([order.id]) == {order.id}


@pytest.mark.parametrize("paid", [False, True], ids=["pending", "paid"])
def test_a_midtrans_order_hit_by_an_offline_sale_is_flagged_on_the_pos_its_page_and_the_discrepancies(
        client, login_as, make_user, make_lot, midtrans_stub, paid):
    from orders import services as orders

    lot = make_lot(quantity=2)
    order = orders.place_order({lot.product_id: 1}, orders.Customer(name="Ani", phone="081234567890"), "midtrans")
    if paid:
        orders.apply_gateway_status(order.id, {"order_id": order.number, "transaction_id": "t-1",
                                               "transaction_status": "settlement", "gross_amount": str(order.total)})
    _sync(make_user("kasir"), lot, 2)  # the phone sold both packs offline, one of them the order's
    assert offline.orders_hit_by_discrepancies([order.id]) == {order.id}
    login_as("pengurus")
    pos = client.get("/gerai/kasir").get_data(as_text=True)
    assert 'id="orders-to-check"' in pos and order.number in pos
    assert 'id="check-shelf"' in client.get(f"/gerai/pesanan/{order.id}").get_data(as_text=True)
    assert order.number in client.get("/gerai/selisih").get_data(as_text=True)
    if paid:
        orders.mark_delivered(make_user("kasir"), order.id)  # handed over: nothing left to check for it
        assert offline.orders_hit_by_discrepancies([order.id]) == set()
        assert order.number not in client.get("/gerai/kasir").get_data(as_text=True)
        assert 'id="check-shelf"' not in client.get(f"/gerai/pesanan/{order.id}").get_data(as_text=True)
