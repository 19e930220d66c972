"""The open settlement's draft shows one page of members, computed for those members only; the figures
of a page equal those of the whole-cooperative computation."""
from datetime import timedelta
from unittest.mock import patch

from consignment import services as gerai
from consignment.services import LineRequest, record_counter_sale
from marketplace.timeutil import local_today, utcnow
from settlement import routes, services


def test_open_settlement_pages_members_with_the_same_figures_as_the_whole(client, login_as, monkeypatch, make_member,
                                                                           make_product, make_lot, make_user):
    monkeypatch.setattr(routes, "MEMBERS_PER_PAGE", 2)
    kasir, pengurus = make_user("kasir"), make_user("pengurus")
    members = [make_member(business_name=f"Usaha {c}") for c in "ABC"]
    for i, member in enumerate(members, start=1):
        record_counter_sale(kasir, [LineRequest(make_lot(make_product(member, price=10000)).id, i)], "cash")
    period = services.open_period(pengurus, local_today())
    whole = {d.member.id: (d.gross, d.payable) for d in services.compute_statements(local_today())}
    paged = {}
    for page in (1, 2):
        drafts, has_next = services.statements_page(local_today(), page, 2)
        paged.update({d.member.id: (d.gross, d.payable) for d in drafts})
        assert has_next == (page == 1)
    assert paged == whole and len(whole) == 3
    login_as("pengurus")
    first = client.get(f"/penyelesaian/{period.id}").get_data(as_text=True)
    assert ">Usaha A</td>" in first and ">Usaha C</td>" not in first and "page=2" in first
    assert ">Usaha C</td>" in client.get(f"/penyelesaian/{period.id}?page=2").get_data(as_text=True)


def test_drafts_from_the_daily_figures_equal_the_drafts_from_the_sale_lines(count_queries, make_member, make_product,
                                                                          make_lot, make_user):
    """After a close, sales voided after it (settled and not), later sales and a second member, the open draft's
    figures (daily sales figures minus the frozen statements) equal those summed from the unsettled lines."""
    kasir, pengurus = make_user("kasir"), make_user("pengurus")
    rina, sari = make_member(business_name="Dapur Rina"), make_member(business_name="Kue Sari")
    lots = [make_lot(make_product(m, price=10000), quantity=30) for m in (rina, sari)]
    two_days_ago = utcnow() - timedelta(days=2)
    with patch.object(gerai, "utcnow", lambda: two_days_ago):
        settled = [record_counter_sale(kasir, [LineRequest(lot.id, 2)], "cash") for lot in lots]
        record_counter_sale(kasir, [LineRequest(lots[0].id, 1), LineRequest(lots[1].id, 4)], "qris")
    services.close_period(pengurus, services.open_period(pengurus, local_today() - timedelta(days=1)).id)
    gerai.void_sale(pengurus, settled[0].id, "salah harga")  # settled, then voided: a late void
    unsettled = record_counter_sale(kasir, [LineRequest(lots[0].id, 3)], "cash")
    record_counter_sale(kasir, [LineRequest(lots[1].id, 5)], "cash")
    gerai.void_sale(pengurus, unsettled.id, "batal")

    def figures(drafts):
        return {d.member.id: (d.gross, d.commission, d.line_count, d.adjustment_total, d.payable) for d in drafts}

    with count_queries() as n:
        from_daily = figures(services.compute_statements(local_today()))
    assert from_daily == figures(services.compute_statements(local_today(), from_lines=True))
    assert from_daily[sari.id][:3] == (50000, 7500, 1) and from_daily[rina.id][2] == 0
    assert not any("not (exists" in sql.lower() and "from payout_lines" in sql.lower() for sql in n.statements)
