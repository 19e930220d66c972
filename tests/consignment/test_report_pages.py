"""Reports paginate and filter, and download in full as a streamed CSV; the sales summary runs once."""
import csv
import io
from datetime import timedelta

import pytest

from consignment import routes
from consignment.services import LineRequest, record_counter_sale
from marketplace.timeutil import local_today


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(routes, "LOTS_PER_PAGE", 3)
    monkeypatch.setattr(routes, "MEMBERS_PER_PAGE", 2)
    monkeypatch.setattr(routes, "GROUPS_PER_PAGE", 2)


def _rows(response):
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_aging_report_shows_a_page_of_lots_filters_by_member_and_downloads_every_lot(
        client, login_as, make_member, make_product, make_lot, small_pages):
    soon = local_today() + timedelta(days=2)
    rina, sari = make_member(business_name="Dapur Rina"), make_member(business_name="Kue Sari")
    lots = [make_lot(make_product(rina), quantity=2, expiry_date=soon) for _ in range(4)]
    other = make_lot(make_product(sari), quantity=1, expiry_date=soon)
    login_as("pengurus")
    first = client.get("/gerai/laporan/umur?hari=30").get_data(as_text=True)
    assert sum(lot.code in first for lot in lots + [other]) == 3 and "page=2" in first
    second = client.get("/gerai/laporan/umur?hari=30&page=2").get_data(as_text=True)
    assert sum(lot.code in second for lot in lots + [other]) == 2 and "page=3" not in second
    only_sari = client.get(f"/gerai/laporan/umur?hari=30&anggota={sari.id}").get_data(as_text=True)
    assert other.code in only_sari and not any(lot.code in only_sari for lot in lots)
    download = client.get("/gerai/laporan/umur?hari=30&format=csv")
    assert download.is_streamed and download.mimetype == "text/csv"
    rows = _rows(download)
    assert rows[0][:3] == ["member", "lot", "product"]
    assert sorted(r[1] for r in rows[1:]) == sorted(lot.code for lot in lots + [other])


def test_stock_report_pages_members_filters_by_category_and_downloads_everything(
        client, login_as, make_member, make_product, make_lot, make_category, small_pages):
    snacks = make_category("Camilan")
    members = [make_member(business_name=f"Usaha {c}") for c in "ABC"]
    for member in members:
        make_lot(make_product(member, category_id=snacks.id), quantity=4)
        make_lot(make_product(member), quantity=1)
    login_as("pengurus")
    first = client.get("/gerai/laporan/stok").get_data(as_text=True)
    assert ">Usaha A</td>" in first and ">Usaha B</td>" in first and ">Usaha C</td>" not in first
    assert "page=2" in first
    assert ">Usaha C</td>" in client.get("/gerai/laporan/stok?page=2").get_data(as_text=True)
    rows = _rows(client.get(f"/gerai/laporan/stok?format=csv&kategori={snacks.id}"))
    assert [(r[0], r[1], r[2]) for r in rows[1:]] == [(f"Usaha {c}", "Camilan", "4") for c in "ABC"]
    assert len(_rows(client.get("/gerai/laporan/stok?format=csv"))) == 1 + 6


def test_sales_report_runs_its_summary_once_from_the_daily_figures_and_filters_by_member(client, login_as, count_queries, make_member,
                                                                  make_product, make_lot, make_user):
    kasir = make_user("kasir")
    rina, sari = make_member(business_name="Dapur Rina"), make_member(business_name="Kue Sari")
    for member, qty in ((rina, 2), (sari, 5)):
        record_counter_sale(kasir, [LineRequest(make_lot(make_product(member, price=1000)).id, qty)], "cash")
    login_as("pengurus")
    with count_queries() as n:
        page = client.get("/gerai/laporan/penjualan").get_data(as_text=True)
    assert sum("sum(sales_daily.units)" in sql.lower() for sql in n.statements) == 1
    assert not any("sale_lines" in sql.lower() for sql in n.statements)  # never the lines themselves
    assert "Rp7.000" in page
    only_rina = client.get(f"/gerai/laporan/penjualan?per=member&anggota={rina.id}").get_data(as_text=True)
    assert "Dapur Rina" in only_rina and "Rp2.000" in only_rina and ">Kue Sari</td>" not in only_rina
    rows = _rows(client.get("/gerai/laporan/penjualan?per=member&format=csv"))
    assert [r[1] for r in rows[1:]] == ["Kue Sari", "Dapur Rina"]


def test_members_lots_page_shows_one_page_with_a_link_to_the_next(client, login_as, make_member, make_product,
                                                                  make_lot, small_pages):
    member = make_member()
    lots = [make_lot(make_product(member), quantity=1) for _ in range(4)]
    login_as("member", member)
    page = client.get("/gerai/saya").get_data(as_text=True)
    assert sum(lot.code in page for lot in lots) == 3 and "page=2" in page
    assert lots[0].code in client.get("/gerai/saya?page=2").get_data(as_text=True)  # the oldest comes last


def _after_filters(html: str) -> str:
    """The report itself: what follows the filter form."""
    return html.split('class="filters', 1)[1].split("</form>", 1)[1]


@pytest.mark.parametrize("report", ["/gerai/laporan/umur?hari=30", "/gerai/laporan/stok?page=1",
                                    "/gerai/laporan/penjualan?per=member"])
def test_reports_find_a_member_by_a_typed_name_and_never_list_every_member(client, login_as, make_member,
                                                                             make_product, make_lot, report):
    members = {name: make_member(business_name=name) for name in ("Kue Sari", "Kue Sari Rasa", "Dapur Rina",
                                                                   "Amplang 100%")}
    soon = local_today() + timedelta(days=2)  # on the aging report: close to its best-before date
    lots = {name: make_lot(make_product(m), quantity=2, expiry_date=soon) for name, m in members.items()}
    for name, lot in lots.items():
        record_counter_sale(lot.received_by, [LineRequest(lot.id, 1)], "cash")
    login_as("pengurus")
    page = client.get(report).get_data(as_text=True)
    assert not any(f">{name}</option>" in page for name in members)  # no list of members
    assert all(name in page for name in ("Kue Sari Rasa", "Dapur Rina"))  # the report itself shows them all

    one = client.get(report + "&cari_anggota=rina").get_data(as_text=True)  # one match: filtered by it
    assert "Dapur Rina" in _after_filters(one) and "Kue Sari" not in _after_filters(one)
    assert 'value="Dapur Rina"' in one

    several = client.get(report + "&cari_anggota=sari").get_data(as_text=True)  # two match: choose
    assert "Beberapa anggota cocok" in several
    assert f"anggota={members['Kue Sari'].id}" in several and f"anggota={members['Kue Sari Rasa'].id}" in several
    exact = client.get(report + "&cari_anggota=kue+sari").get_data(as_text=True)  # one is exactly that name
    assert "Beberapa anggota cocok" not in exact and "Kue Sari" in _after_filters(exact)
    assert "Kue Sari Rasa" not in _after_filters(exact)

    literal = client.get(report + "&cari_anggota=100%25").get_data(as_text=True)  # % is a character, not a wildcard
    assert "Amplang 100%" in _after_filters(literal) and "Dapur Rina" not in _after_filters(literal)
    none = client.get(report + "&cari_anggota=zzz").get_data(as_text=True)
    assert "Tidak ada nama usaha anggota" in none


def test_a_members_exact_name_finds_her_among_many_that_contain_it_and_crafted_links_stay_on_the_site(
        client, login_as, make_member, make_product, make_lot):
    others = [make_member(business_name=f"{prefix} Sari") for prefix in
              ["Aneka", "Bakso", "Cahaya", "Dapur", "Es", "Fajar", "Gula", "Harum", "Ikan", "Jamu", "Kopi", "Lapis",
               "Madu", "Nasi", "Oleh", "Pisang", "Roti", "Sambal", "Tahu", "Ubi", "Wadai", "Yoga"]]
    sari = make_member(business_name="Sari")
    for member in others + [sari]:
        make_lot(make_product(member), quantity=1)
    login_as("pengurus")
    page = client.get("/gerai/laporan/stok?cari_anggota=SARI").get_data(as_text=True)
    assert "Beberapa anggota cocok" not in page and 'value="Sari"' in page
    assert ">Sari<" in _after_filters(page) and "Aneka Sari" not in _after_filters(page)
    many = client.get("/gerai/laporan/stok?cari_anggota=ari&_external=1&_scheme=javascript")
    assert many.status_code == 200
    html = many.get_data(as_text=True)
    assert "Beberapa anggota cocok" in html
    chips = html.split('class="chips"', 1)[1].split("</ul>", 1)[0]
    assert chips.count('href="/gerai/laporan/stok?') == 20 and "javascript" not in chips and "_scheme" not in chips
