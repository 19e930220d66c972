"""The open settlement's draft shows one page of members, computed for those members only; the figures
of a page equal those of the whole-cooperative computation."""
from consignment.services import LineRequest, record_counter_sale
from marketplace.timeutil import local_today
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
