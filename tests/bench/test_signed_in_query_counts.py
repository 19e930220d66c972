"""Every signed-in page runs the same number of SQL statements however many members, lots and sales the
cooperative has (no N+1 can come back). Each page is requested with small data and again after the data
grew; the counts must be equal."""
from datetime import timedelta

import pytest

from consignment import services as gerai
from consignment.services import LineRequest
from marketplace.timeutil import local_today
from settlement import services as settlement


@pytest.fixture
def coop(make_member, make_product, make_lot, make_user):
    kasir, pengurus = make_user("kasir"), make_user("pengurus")
    state = {"members": [], "kasir": kasir, "pengurus": pengurus}

    def grow_to(n_members: int, products_each: int):
        soon = local_today() + timedelta(days=3)
        while len(state["members"]) < n_members:
            member = make_member()
            state["members"].append(member)
            for i in range(products_each):
                product = make_product(member, name=f"Produk {member.business_name} {i}",
                                       status="draft" if i == 1 else "published")
                lot = make_lot(product, quantity=20, expiry_date=soon if i % 2 else None)
                make_lot(product, quantity=5)
                sale = gerai.record_counter_sale(kasir, [LineRequest(lot.id, 1 + i % 3)], "cash")
                gerai.record_counter_sale(kasir, [LineRequest(lot.id, 1)], "qris")
                state.setdefault("lot", lot)
                state.setdefault("sale", sale)
        if "void" not in state:
            state["void"] = gerai.void_sale(pengurus, state["sale"].id, "salah input")

    state["grow_to"] = grow_to
    return state


def _count(client, count_queries, url):
    with count_queries() as n:
        response = client.get(url)
        assert response.status_code == 200, url
        response.get_data()
    return n()


def _measure(client, auth, count_queries, coop, period_id):
    today = local_today()
    first = coop["members"][0]
    month = f"dari={today - timedelta(days=29)}&sampai={today}"
    pages = {
        coop["kasir"]: ["/dasbor", "/gerai/", "/gerai/?stok=1", "/gerai/kasir", "/gerai/kasir?cari=produk",
                        "/gerai/terima", "/gerai/terima?cari=produk", "/gerai/terima/produk?q=produk",
                        "/gerai/penjualan", "/gerai/pesanan", f"/gerai/retur?anggota={first.id}",
                        f"/gerai/lot/{coop['lot'].code}", f"/gerai/penjualan/{coop['sale'].id}/struk",
                        "/gerai/laporan/umur?hari=0"],
        coop["pengurus"]: ["/gerai/laporan/umur?hari=0", "/gerai/laporan/stok",
                           f"/gerai/laporan/stok?anggota={first.id}", f"/gerai/laporan/penjualan?{month}",
                           f"/gerai/laporan/penjualan?{month}&per=member",
                           f"/gerai/laporan/penjualan?{month}&per=product", f"/penyelesaian/{period_id}",
                           "/penyelesaian", "/admin/audit", "/kelola/produk", "/admin/anggota", "/gerai/perjanjian"],
        first.user: ["/dasbor", "/gerai/saya", "/saya/saldo", "/kelola/produk"],
    }
    counts = {}
    for user, urls in pages.items():
        auth.login(user.email)
        if user is coop["kasir"]:
            client.post("/gerai/kasir/tambah", data={"kode": coop["lot"].code})
        for url in urls:
            counts[(user.role, url)] = _count(client, count_queries, url)
        auth.logout()
    return counts


def test_signed_in_pages_run_the_same_number_of_queries_as_the_cooperative_grows(client, auth, count_queries, coop):
    coop["grow_to"](2, 2)
    period = settlement.open_period(coop["pengurus"], local_today())
    small = _measure(client, auth, count_queries, coop, period.id)
    coop["grow_to"](7, 4)
    large = _measure(client, auth, count_queries, coop, period.id)
    grew = {page: (small[page], large[page]) for page in small if large[page] != small[page]}
    assert grew == {}, grew
