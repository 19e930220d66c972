"""Notifications are queued in the transaction of the change that causes them, once per event."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from consignment import services as gerai
from consignment.models import ConsignmentLot, Sale
from marketplace import accounts, once
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.money import format_rupiah
from marketplace.timeutil import local_today, utcnow
from notifications import messages as m
from notifications import services as notify
from notifications.models import (CHANNEL_INAPP, CHANNEL_MANUAL, MANUAL_PENDING, SENT, Notification)
from orders import services as orders
from settlement import services as settlement


def rows(event: str | None = None) -> list[Notification]:
    db.session.expire_all()
    stmt = select(Notification).order_by(Notification.id)
    if event:
        stmt = stmt.where(Notification.event == event)
    return list(db.session.scalars(stmt))


@pytest.fixture
def kasir(make_user):
    return make_user("kasir")


def sell(kasir, lot, quantity=1):
    return gerai.record_counter_sale(kasir, [gerai.LineRequest(lot.id, quantity)], "cash")


def test_a_counter_sale_queues_a_message_for_the_member_on_the_staff_list_without_api_keys(
        kasir, make_member, make_product, make_lot):
    member = make_member(owner_name="Acil Bariah", whatsapp="0812 5000 0001")
    lot = make_lot(make_product(member, name="Keripik Pisang Kepok", price=15000), quantity=10, kasir=kasir)
    sale = sell(kasir, lot, 3)
    [row] = rows(m.SOLD)
    assert row.key == f"sale:{sale.id}:{member.id}"
    assert (row.channel, row.status, row.phone, row.user_id) == (CHANNEL_MANUAL, MANUAL_PENDING, "6281250000001",
                                                                  member.user_id)
    assert row.text.startswith("Halo Acil Bariah, barang Anda terjual di gerai: 3 × Keripik Pisang Kepok, seharga Rp45.000; bagian Anda")


def test_a_sale_of_several_of_her_goods_sends_her_one_message_listing_them(kasir, make_member, make_product,
                                                                          make_lot):
    acil, galuh = make_member(owner_name="Acil Bariah"), make_member(owner_name="Galuh")
    keripik = make_lot(make_product(acil, name="Keripik Pisang", price=15000), quantity=10, kasir=kasir)
    more_keripik = make_lot(keripik.product, quantity=10, kasir=kasir)
    amplang = make_lot(make_product(acil, name="Amplang", price=20000), quantity=10, kasir=kasir)
    tikar = make_lot(make_product(galuh, name="Tikar Purun", price=50000), quantity=10, kasir=kasir)
    key = once.new_key()
    sale = gerai.record_counter_sale(kasir, [gerai.LineRequest(keripik.id, 2), gerai.LineRequest(amplang.id, 1),
                                             gerai.LineRequest(more_keripik.id, 1), gerai.LineRequest(tikar.id, 1)],
                                     "cash", once_key=key)
    gerai.record_counter_sale(kasir, [gerai.LineRequest(tikar.id, 1)], "cash", once_key=key)  # sent twice
    by_user = {r.user_id: r for r in rows(m.SOLD)}
    assert len(rows(m.SOLD)) == 2 and set(by_user) == {acil.user_id, galuh.user_id}
    told = by_user[acil.user_id]
    assert told.key == f"sale:{sale.id}:{acil.id}"
    share = sum(line.line_total - line.commission for line in sale.lines if line.member_id == acil.id)
    assert told.text == (f"Halo Acil Bariah, barang Anda terjual di gerai: 3 × Keripik Pisang, 1 × Amplang, "
                         f"seharga Rp65.000; bagian Anda {format_rupiah(share)}. Terima kasih.")
    assert json.loads(told.params)[1:3] == ["3 × Keripik Pisang, 1 × Amplang", "Rp65.000"]
    assert "1 × Tikar Purun, seharga Rp50.000" in by_user[galuh.user_id].text


def test_a_refused_sale_queues_nothing(kasir, make_product, make_lot):
    lot = make_lot(make_product(), quantity=2, kasir=kasir)
    with pytest.raises(DomainError):
        gerai.record_counter_sale(kasir, [gerai.LineRequest(lot.id, 5)], "cash")  # more than on the shelf
    assert rows() == []


def test_an_event_is_queued_once_and_a_repeat_leaves_the_callers_transaction_working(app, make_member):
    member = make_member()
    with db.session.begin_nested():
        pass
    assert notify.enqueue("test:1", m.LOW_STOCK, ["A", "B", 1], user_id=member.user_id, phone=member.whatsapp) is True
    assert notify.enqueue("test:1", m.LOW_STOCK, ["A", "B", 1], user_id=member.user_id, phone=member.whatsapp) is False
    db.session.commit()
    assert len(rows()) == 1


def test_a_member_who_chose_inbox_only_gets_the_sale_in_the_app_not_on_whatsapp(kasir, make_member, make_product,
                                                                                make_lot):
    member = make_member()
    notify.save_preferences(member.user, [m.STATEMENT_READY], "each", 0)
    sell(kasir, make_lot(make_product(member), quantity=5, kasir=kasir))
    [row] = rows(m.SOLD)
    assert (row.channel, row.status) == (CHANNEL_INAPP, SENT)
    assert notify.to_send_by_hand(kasir) == []


def test_a_daily_summary_member_sees_each_sale_in_the_app_and_gets_one_summary_the_next_day(
        kasir, make_member, make_product, make_lot):
    member = make_member(owner_name="Galuh")
    notify.save_preferences(member.user, list(m.CHOOSABLE), "daily", 0)
    lot = make_lot(make_product(member, price=10000), quantity=10, kasir=kasir)
    sell(kasir, lot, 2)
    sell(kasir, lot, 1)
    assert {(r.channel, r.status) for r in rows(m.SOLD)} == {(CHANNEL_INAPP, SENT)}
    tomorrow = local_today() + timedelta(days=1)
    assert notify.scan(tomorrow) == 1
    assert notify.scan(tomorrow) == 0  # run again (the loop scans every hour): nothing new
    [summary] = rows(m.SOLD_DAILY)
    assert summary.channel == CHANNEL_MANUAL
    assert "3 barang, seharga Rp30.000" in summary.text


def test_a_member_who_unticked_goods_sold_for_whatsapp_gets_her_daily_summary_only_in_the_app(
        kasir, make_member, make_product, make_lot):
    member = make_member()
    notify.save_preferences(member.user, [m.STATEMENT_READY], "daily", 0)  # "Goods sold" unticked
    sell(kasir, make_lot(make_product(member, price=10000), quantity=10, kasir=kasir), 2)
    assert notify.scan(local_today() + timedelta(days=1)) == 1
    [summary] = rows(m.SOLD_DAILY)
    assert (summary.channel, summary.status) == (CHANNEL_INAPP, SENT)  # in her inbox, not on WhatsApp
    assert notify.to_send_by_hand(kasir) == []


def sold_days_ago(kasir, lot, days: int, quantity: int = 1, synced_days_ago: int | None = None):
    """A counter sale made `days` ago (and its member told then) — or made offline then and synced
    `synced_days_ago`: its "goods sold" notification is dated when it reached the server."""
    sale = sell(kasir, lot, quantity)
    told = synced_days_ago if synced_days_ago is not None else days
    db.session.execute(update(Sale).where(Sale.id == sale.id).values(created_at=utcnow() - timedelta(days=days)))
    db.session.execute(update(Notification).where(Notification.key.like(f"sale:{sale.id}:%"))
                       .values(created_at=utcnow() - timedelta(days=told)))
    db.session.commit()
    return sale


def test_a_missed_scan_catches_up_each_unsent_days_summary_once_within_a_week(kasir, make_member, make_product,
                                                                              make_lot):
    member = make_member(owner_name="Galuh")
    notify.save_preferences(member.user, list(m.CHOOSABLE), "daily", 0)
    lot = make_lot(make_product(member, price=10000), quantity=20, kasir=kasir)
    for days in (9, 5, 3, 3, 1):
        sold_days_ago(kasir, lot, days)
    assert notify.scan() == 3  # the scanner was down for days: 5, 3 and 1 days ago; 9 is too old
    assert notify.scan() == 0
    today = local_today()
    assert sorted(r.key for r in rows(m.SOLD_DAILY)) == sorted(
        f"daily:{member.id}:{(today - timedelta(days=d)).isoformat()}" for d in (5, 3, 1))
    assert any("2 barang, seharga Rp20.000" in r.text for r in rows(m.SOLD_DAILY))


def test_a_sale_synced_from_the_offline_counter_after_its_days_summary_is_in_the_next_summary(
        kasir, make_member, make_product, make_lot):
    member = make_member(owner_name="Galuh")
    notify.save_preferences(member.user, list(m.CHOOSABLE), "daily", 0)
    lot = make_lot(make_product(member, price=10000), quantity=20, kasir=kasir)
    sold_days_ago(kasir, lot, 2)
    today = local_today()
    assert notify.scan(today - timedelta(days=1)) == 1  # the summary of two days ago: one unit
    sold_days_ago(kasir, lot, 2, quantity=3, synced_days_ago=1)  # made offline that day, synced a day later
    sold_days_ago(kasir, lot, 1)
    assert notify.scan(today) == 1  # yesterday's summary: yesterday's sale and the one that arrived then
    summaries = {r.key: r.text for r in rows(m.SOLD_DAILY)}
    assert "1 barang, seharga Rp10.000" in summaries[f"daily:{member.id}:{(today - timedelta(days=2)).isoformat()}"]
    assert "4 barang, seharga Rp40.000" in summaries[f"daily:{member.id}:{(today - timedelta(days=1)).isoformat()}"]


def test_an_offline_sale_dated_just_after_midnight_by_a_fast_phone_clock_is_in_the_summary_of_its_arrival(
        kasir, make_member, make_product, make_lot):
    from marketplace.timeutil import local_midnight_utc

    member = make_member()
    notify.save_preferences(member.user, list(m.CHOOSABLE), "daily", 0)
    sale = sell(kasir, make_lot(make_product(member, price=10000), quantity=5, kasir=kasir), 2)
    today = local_today()
    arrived = local_midnight_utc(today) - timedelta(minutes=5)  # synced at 23:55 yesterday…
    db.session.execute(update(Sale).where(Sale.id == sale.id).values(created_at=arrived + timedelta(minutes=9)))
    db.session.execute(update(Notification).where(Notification.key == f"sale:{sale.id}:{member.id}")
                       .values(created_at=arrived))  # …dated 00:04 today by a phone 9 minutes fast
    db.session.commit()
    assert notify.scan(today) == 1
    [summary] = rows(m.SOLD_DAILY)
    assert summary.key == f"daily:{member.id}:{(today - timedelta(days=1)).isoformat()}"
    assert "2 barang, seharga Rp20.000" in summary.text


def test_switching_to_a_daily_summary_does_not_summarise_sales_she_was_told_one_by_one(kasir, make_member,
                                                                                      make_product, make_lot):
    member = make_member()
    lot = make_lot(make_product(member), quantity=20, kasir=kasir)
    sold_days_ago(kasir, lot, 3)  # told on WhatsApp that day, sale by sale
    sold_days_ago(kasir, lot, 1)
    notify.save_preferences(member.user, list(m.CHOOSABLE), "daily", 0)
    assert notify.scan() == 0
    sell(kasir, lot, 2)  # from now on: in the inbox, and a summary tomorrow
    assert notify.scan(local_today() + timedelta(days=1)) == 1
    [summary] = rows(m.SOLD_DAILY)
    assert "2 barang" in summary.text


def test_the_summary_also_counts_sales_told_in_the_inbox_before_messages_were_grouped_per_sale(
        kasir, make_member, make_product, make_lot):
    member = make_member()
    notify.save_preferences(member.user, list(m.CHOOSABLE), "daily", 0)
    sale = sold_days_ago(kasir, make_lot(make_product(member, price=10000), quantity=5, kasir=kasir), 1, 2)
    db.session.execute(update(Notification).where(Notification.key == f"sale:{sale.id}:{member.id}")
                       .values(key=f"sale:{sale.lines[0].id}"))  # as the previous version keyed it
    db.session.commit()
    assert notify.scan() == 1
    assert "2 barang, seharga Rp20.000" in rows(m.SOLD_DAILY)[0].text


def test_low_stock_is_told_when_a_sale_takes_the_product_to_her_threshold(kasir, make_member, make_product, make_lot):
    member = make_member()
    notify.save_preferences(member.user, list(m.CHOOSABLE), "each", 3)
    product = make_product(member, name="Amplang Ikan Pipih")
    lot = make_lot(product, quantity=5, kasir=kasir)
    sell(kasir, lot)  # 4 left
    assert rows(m.LOW_STOCK) == []
    sell(kasir, lot)  # 3 left: crosses
    sell(kasir, lot)  # 2 left: already told
    [low] = rows(m.LOW_STOCK)
    assert low.key.startswith(f"low:{product.id}:")
    assert "stok Amplang Ikan Pipih di gerai tinggal 3" in low.text


def low_stock_texts() -> list[str]:
    return [r.text for r in rows(m.LOW_STOCK)]


def test_damaged_goods_taking_the_product_to_her_threshold_tell_her_once(kasir, make_member, make_product, make_lot):
    member = make_member()
    notify.save_preferences(member.user, list(m.CHOOSABLE), "each", 3)
    lot = make_lot(make_product(member, name="Bingka Kentang"), quantity=5, kasir=kasir)
    gerai.adjust_stock(kasir, lot.id, -1, "damaged", "kotak penyok")  # 4 left
    assert low_stock_texts() == []
    gerai.adjust_stock(kasir, lot.id, -2, "damaged", "jatuh dari rak")  # 2 left: crosses
    gerai.adjust_stock(kasir, lot.id, -1, "lost", "tidak ditemukan")  # 1 left: already told
    gerai.adjust_stock(kasir, lot.id, 1, "count_correction", "salah hitung")  # 2: stock went up, nothing
    assert low_stock_texts() == ["Halo " + member.owner_name + ", stok Bingka Kentang di gerai tinggal 2. "
                                 "Silakan antar barang lagi bila perlu."]
    [low] = rows(m.LOW_STOCK)
    assert low.user_id == member.user_id and low.channel == CHANNEL_MANUAL


def test_goods_returned_to_her_taking_the_product_to_her_threshold_tell_her(kasir, make_member, make_product,
                                                                            make_lot):
    member = make_member()
    notify.save_preferences(member.user, list(m.CHOOSABLE), "each", 3)
    product = make_product(member, name="Kue Lam")
    first, second = make_lot(product, quantity=4, kasir=kasir), make_lot(product, quantity=4, kasir=kasir)
    gerai.return_to_member(kasir, member.id, [gerai.LineRequest(first.id, 3), gerai.LineRequest(second.id, 3)])
    assert low_stock_texts() == [f"Halo {member.owner_name}, stok Kue Lam di gerai tinggal 2. "
                                 "Silakan antar barang lagi bila perlu."]  # one message for the product


def test_a_failed_adjustment_queues_no_low_stock_message(kasir, make_member, make_product, make_lot):
    member = make_member()
    notify.save_preferences(member.user, list(m.CHOOSABLE), "each", 3)
    lot = make_lot(make_product(member), quantity=5, kasir=kasir)
    with pytest.raises(DomainError):
        gerai.adjust_stock(kasir, lot.id, -9, "damaged", "lebih dari stok")  # would go below zero
    assert low_stock_texts() == []


def test_each_crossing_of_her_threshold_is_told_once_even_twice_in_a_day(kasir, make_member, make_product, make_lot):
    member = make_member()
    notify.save_preferences(member.user, list(m.CHOOSABLE), "each", 3)
    lot = make_lot(make_product(member, name="Amplang"), quantity=4, kasir=kasir)
    sell(kasir, lot)  # 3 left: crosses
    sell(kasir, lot)  # 2: already told
    more = make_lot(lot.product, quantity=10, kasir=kasir)  # she brought more: 12 on the shelf
    sell(kasir, more, 2)  # 10
    gerai.adjust_stock(kasir, more.id, -8, "expired", "lewat tanggal")  # 2: crosses again, the same day
    gerai.adjust_stock(kasir, lot.id, -1, "expired", "lewat tanggal")  # 1: already told
    texts = low_stock_texts()
    assert len(texts) == 2 and "tinggal 3." in texts[0] and "tinggal 2." in texts[1]


def test_raising_her_threshold_above_the_stock_on_the_shelf_tells_her_once(kasir, make_member, make_product,
                                                                            make_lot):
    member = make_member()
    notify.save_preferences(member.user, list(m.CHOOSABLE), "each", 3)
    make_lot(make_product(member, name="Dodol Kandangan"), quantity=5, kasir=kasir)
    make_lot(make_product(member, name="Tikar Purun"), quantity=20, kasir=kasir)
    make_product(member, name="Belum dititipkan")  # no stock in the gerai: nothing to say
    notify.save_preferences(member.user, list(m.CHOOSABLE), "each", 6)  # 5 <= 6: now low
    notify.save_preferences(member.user, list(m.CHOOSABLE), "each", 6)  # saved again: nothing new
    notify.save_preferences(member.user, list(m.CHOOSABLE), "each", 3)
    notify.save_preferences(member.user, list(m.CHOOSABLE), "each", 6)  # the same stock, told already
    assert low_stock_texts() == [f"Halo {member.owner_name}, stok Dodol Kandangan di gerai tinggal 5. "
                                 "Silakan antar barang lagi bila perlu."]


def test_the_scan_tells_of_expiring_and_long_kept_goods_once(app, kasir, make_member, make_product, make_lot):
    member = make_member()
    expiring = make_lot(make_product(member, name="Bingka Kentang"), quantity=4, kasir=kasir,
                        expiry_date=local_today() + timedelta(days=5))
    old = make_lot(make_product(member, name="Tikar Purun"), quantity=2, kasir=kasir)
    fresh = make_lot(make_product(member), quantity=2, kasir=kasir)
    db.session.execute(update(ConsignmentLot).where(ConsignmentLot.id == old.id)
                       .values(received_at=utcnow() - timedelta(days=45)))
    db.session.commit()
    assert notify.scan() == 2
    assert notify.scan() == 0
    [exp] = rows(m.EXPIRING)
    [aging] = rows(m.AGING)
    assert exp.key == f"expiring:{expiring.id}" and "Bingka Kentang" in exp.text
    assert aging.key.startswith(f"aging:{old.id}:") and "sudah 45 hari di gerai" in aging.text
    assert fresh.id not in {int(r.key.split(":")[1]) for r in rows()}


def test_the_days_a_lot_has_been_kept_are_counted_in_the_cooperatives_days_also_in_the_evening(
        app, kasir, make_member, make_product, make_lot):
    """Received at 00:30 WIB on 24 October (17:30 UTC the day before) and counted on 8 December: 45 days, not
    the 46 that subtracting the UTC date from the local one gave every evening after 17:00 UTC."""
    from datetime import date, datetime

    accounts.save_cooperative(accounts.system_user(), accounts.CooperativeDetails(name="Koperasi Uji",
                                                                                  time_zone="Asia/Jakarta"))
    old = make_lot(make_product(make_member(), name="Tikar Purun"), quantity=2, kasir=kasir)
    db.session.execute(update(ConsignmentLot).where(ConsignmentLot.id == old.id)
                       .values(received_at=datetime(2026, 10, 23, 17, 30)))
    db.session.commit()
    notify.scan(today=date(2026, 12, 8))
    [aging] = rows(m.AGING)
    assert "sudah 45 hari di gerai" in aging.text


def test_a_closed_settlement_and_a_payment_tell_the_member(app, kasir, make_user, make_member, make_product, make_lot):
    pengurus = make_user("pengurus")
    member = make_member(owner_name="Nurhayati")
    sell(kasir, make_lot(make_product(member, price=20000), quantity=3, kasir=kasir))
    with app.test_request_context():
        period = settlement.close_period(pengurus, settlement.open_period(pengurus, local_today()).id)
    payout = period.payouts[0]
    [ready] = rows(m.STATEMENT_READY)
    assert ready.key == f"statement:{payout.id}"
    assert f"Jumlah yang dibayarkan: Rp{payout.payable:,}".replace(",", ".") in ready.text
    assert f"Lihat: http://localhost/pernyataan/{payout.id} (masuk" in ready.text
    settlement.mark_paid(pengurus, payout.id, "bank_transfer", "TRF-2026-0042")
    [paid] = rows(m.STATEMENT_PAID)
    assert "Transfer bank" in paid.text and "TRF-2026-0042" in paid.text


def test_a_payment_that_fails_after_its_message_was_queued_queues_nothing(app, monkeypatch, kasir, make_user,
                                                                         make_member, make_product, make_lot):
    """The message is queued inside the payment's transaction: when something later in that transaction
    fails (here the audit event), the payment and its message are rolled back together."""
    from settlement import services as settlement_services
    from settlement.models import PayoutPayment

    pengurus = make_user("pengurus")
    member = make_member()
    sell(kasir, make_lot(make_product(member), quantity=3, kasir=kasir))
    period = settlement.close_period(pengurus, settlement.open_period(pengurus, local_today()).id)
    payout_id = period.payouts[0].id
    queued = []
    real_notify = settlement_services.notify.notify_statement_paid

    def notify_then_remember(payout, payment):
        real_notify(payout, payment)
        queued.append(db.session.scalar(select(func.count(Notification.id))
                                        .where(Notification.event == m.STATEMENT_PAID)))

    def audit_fails(*args, **kwargs):
        raise RuntimeError("the audit log is unavailable")

    monkeypatch.setattr(settlement_services.notify, "notify_statement_paid", notify_then_remember)
    monkeypatch.setattr(settlement_services, "record_event", audit_fails)
    with pytest.raises(RuntimeError):
        settlement.mark_paid(pengurus, payout_id, "bank_transfer", "TRF-2026-0042")
    assert queued == [1]  # the message was queued before the failure ...
    assert rows(m.STATEMENT_PAID) == []  # ... and went with the rolled-back payment
    assert db.session.scalar(select(func.count(PayoutPayment.id))) == 0


def test_an_online_order_tells_each_member_what_of_hers_it_holds(kasir, make_member, make_product, make_lot):
    acil, galuh = make_member(), make_member()
    a = make_product(acil, name="Kue Lam")
    g = make_product(galuh, name="Selendang Sasirangan")
    make_lot(a, quantity=10, kasir=kasir)
    make_lot(g, quantity=10, kasir=kasir)
    order = orders.place_order({a.id: 2, g.id: 1}, orders.Customer("Budi", "081211112222"), "gerai")
    by_user = {r.user_id: r for r in rows(m.ORDER)}
    assert set(by_user) == {acil.user_id, galuh.user_id}
    assert f"pesanan daring {order.number} berisi produk Anda: 2 × Kue Lam." in by_user[acil.user_id].text


def test_a_password_link_goes_to_the_person_it_is_for(app, make_user, make_member):
    pengurus = make_user("pengurus")
    member = make_member(owner_name="Sarmilah")
    with app.test_request_context(base_url="https://pasar.example.id"):
        token = accounts.create_reset_link_token(pengurus, member.user)
    [row] = rows(m.PASSWORD_LINK)
    assert (row.user_id, row.phone, row.channel) == (member.user_id, member.whatsapp, CHANNEL_MANUAL)
    assert f"https://pasar.example.id/atur-sandi/{token}" in row.text
    make_user("kasir")
    assert notify.to_send_by_hand(make_user("kasir")) == []  # a kasir never sees a password link
    assert [n.id for n in notify.to_send_by_hand(pengurus)] == [row.id]


def test_a_declined_join_request_reaches_the_applicant_who_has_no_account(app):
    assert notify.notify_join_decided(7, accepted=False, owner_name="Siti", business_name="Dodol Kandangan",
                                      phone="6281299990000", reason="produk serupa sudah banyak") is True
    assert notify.notify_join_decided(7, accepted=False, owner_name="Siti", business_name="Dodol Kandangan",
                                      phone="6281299990000", reason="lagi") is False
    db.session.commit()
    [row] = rows(m.JOIN_DECLINED)
    assert (row.user_id, row.key, row.channel) == (None, "join:7", CHANNEL_MANUAL)
    assert "belum dapat kami terima: produk serupa sudah banyak. Terima kasih" in row.text


def test_the_inbox_is_newest_first_with_an_unread_count(app, make_member):
    member = make_member()
    for n in range(25):
        notify.enqueue(f"t:{n}", m.LOW_STOCK, ["A", f"Produk {n}", n], user_id=member.user_id, phone=member.whatsapp)
    db.session.commit()
    first = notify.inbox(member.user, 1)
    assert "Produk 24" in first.items[0].text and len(first.items) == 20 and first.has_next
    assert len(notify.inbox(member.user, 2).items) == 5
    assert notify.unread_count(member.user) == 25
    assert notify.mark_all_read(member.user) == 25
    assert notify.unread_count(member.user) == 0


def test_every_template_has_as_many_parameters_as_its_body_names():
    import re

    for event, template in m.TEMPLATES.items():
        placeholders = sorted({int(n) for n in re.findall(r"\{\{(\d+)\}\}", template.body)})
        assert placeholders == list(range(1, len(template.params) + 1)), event
        assert re.fullmatch(r"[a-z0-9_]{1,512}", template.name), event
        assert not re.match(r"\W*\{\{", template.body) and not re.search(r"\}\}\W*$", template.body), event
