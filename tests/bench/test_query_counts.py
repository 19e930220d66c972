"""Pages run a bounded number of SQL queries however many products, lots and sale lines exist (no N+1).
Each page is requested at two sizes; the number of queries must not grow."""
import pytest

from consignment import services as gerai
from consignment.services import LineRequest
from marketplace.timeutil import local_today
from settlement import services as settlement


@pytest.fixture
def grow(make_member, make_product, make_lot, make_user):
    kasir, pengurus = make_user("kasir"), make_user("pengurus")
    member = make_member(email="tumbuh@test.id")
    state = {"member": member}

    def grow_to(n_products: int):
        while state.get("n", 0) < n_products:
            product = make_product(member if state.get("n", 0) % 2 else None, photos=1)
            lot = make_lot(product, quantity=20)
            gerai.record_counter_sale(kasir, [LineRequest(lot.id, 1)], "cash")
            if product.member_id == member.id:
                gerai.record_counter_sale(kasir, [LineRequest(lot.id, 2)], "qris")
            state["n"] = state.get("n", 0) + 1
            state["product"], state["lot"] = product, lot

    state["grow_to"] = grow_to
    state["pengurus"] = pengurus
    return state


def queries_for(client, count_queries, url, again: bool = False):
    """The statements of `url` (`again`: of its second request in a row). Values kept per worker (the
    cooperative's row, pages of tiles: marketplace.shared_values) are read on a worker's first request after a
    change to them; the storefront's pages are counted on that first request, after growing the data moved
    the catalogue's token, so that their tiles are read. The signed-in pages' count should not depend on
    whether the last thing the test did (a sale, an intake) happened to move the token."""
    if again:
        client.get(url)
    with count_queries() as n:
        assert client.get(url).status_code == 200, url
    return n()


PUBLIC = ["/", "/produk", "/produk?q=produk", "/produk?urut=price_asc", "/transparansi", "/sitemap.xml"]


def test_storefront_pages_run_a_bounded_number_of_queries(client, count_queries, grow):
    grow["grow_to"](4)
    small = {url: queries_for(client, count_queries, url) for url in PUBLIC}
    small["product"] = queries_for(client, count_queries, f"/produk/{grow['product'].slug}")
    grow["grow_to"](16)
    large = {url: queries_for(client, count_queries, url) for url in PUBLIC}
    large["product"] = queries_for(client, count_queries, f"/produk/{grow['product'].slug}")
    assert large == small
    assert max(large.values()) <= 12


def test_pos_and_member_portal_run_a_bounded_number_of_queries(client, auth, count_queries, grow, make_user):
    kasir = make_user("kasir")
    grow["grow_to"](4)

    def measure():
        auth.login(kasir.email)
        client.post("/gerai/kasir/tambah", data={"kode": grow["lot"].code})
        pos = queries_for(client, count_queries, "/gerai/kasir", again=True)
        lots = queries_for(client, count_queries, "/gerai/", again=True)
        auth.logout()
        auth.login(grow["member"].user.email)
        mine = queries_for(client, count_queries, "/gerai/saya", again=True)
        balance = queries_for(client, count_queries, "/saya/saldo", again=True)
        auth.logout()
        return pos, lots, mine, balance

    small = measure()
    grow["grow_to"](16)
    settlement.close_period(grow["pengurus"], settlement.open_period(grow["pengurus"], local_today()).id)
    large = measure()
    assert large[:2] == small[:2]
    assert large[2] == small[2]
    assert large[3] <= small[3] + 2  # a closed statement adds its row, not one query per line
