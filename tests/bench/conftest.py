"""A cooperative that grows on demand, and the signed-in pages each role uses, for the tests that prove a
page costs what it shows (query counts, query plans)."""
from datetime import timedelta

import pytest

from consignment import services as gerai
from consignment.services import LineRequest
from marketplace.timeutil import local_today


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


def signed_in_pages(coop, period_id) -> dict:
    """user -> the pages of theirs to request (the kasir's with something in the cart)."""
    today = local_today()
    first = coop["members"][0]
    month = f"dari={today - timedelta(days=29)}&sampai={today}"
    return {
        coop["kasir"]: ["/dasbor", "/gerai/", "/gerai/?stok=1", "/gerai/kasir", "/gerai/kasir?cari=produk",
                        "/gerai/terima", "/gerai/terima?cari=produk", "/gerai/terima/produk?q=produk",
                        "/gerai/penjualan", "/gerai/pesanan", "/gerai/pesanan?status=open",
                        f"/gerai/retur?anggota={first.id}", f"/gerai/lot/{coop['lot'].code}",
                        f"/gerai/penjualan/{coop['sale'].id}/struk", "/gerai/laporan/umur?hari=0", "/gerai/selisih"],
        coop["pengurus"]: ["/gerai/laporan/umur?hari=0", "/gerai/laporan/stok",
                           f"/gerai/laporan/stok?anggota={first.id}", f"/gerai/laporan/penjualan?{month}",
                           f"/gerai/laporan/penjualan?{month}&per=member",
                           f"/gerai/laporan/penjualan?{month}&per=product", f"/penyelesaian/{period_id}",
                           "/penyelesaian", "/admin/audit", "/kelola/produk", "/admin/anggota", "/gerai/perjanjian"],
        first.user: ["/dasbor", "/gerai/saya", "/saya/saldo", "/kelola/produk", "/saya/pemberitahuan"],
    }


def request_each(client, auth, coop, pages: dict, measure) -> dict:
    """Sign in as each user and call `measure(url)` for each of their pages: {(role, url): result}."""
    results = {}
    for user, urls in pages.items():
        auth.login(user.email)
        if user is coop["kasir"]:
            client.post("/gerai/kasir/tambah", data={"kode": coop["lot"].code})
        for url in urls:
            results[(user.role, url)] = measure(url)
        auth.logout()
    return results
