"""Every signed-in page runs the same number of SQL statements however many members, lots and sales the
cooperative has (no N+1 can come back). Each page is requested with small data and again after the data
grew; the counts must be equal."""
from marketplace.timeutil import local_today
from settlement import services as settlement
from tests.bench.conftest import request_each, signed_in_pages


def _count(client, count_queries, url):
    with count_queries() as n:
        response = client.get(url)
        assert response.status_code == 200, url
        response.get_data()
    return n()


def _measure(client, auth, count_queries, coop, period_id):
    return request_each(client, auth, coop, signed_in_pages(coop, period_id),
                        lambda url: _count(client, count_queries, url))


def test_signed_in_pages_run_the_same_number_of_queries_as_the_cooperative_grows(client, auth, count_queries, coop):
    coop["grow_to"](2, 2)
    period = settlement.open_period(coop["pengurus"], local_today())
    small = _measure(client, auth, count_queries, coop, period.id)
    coop["grow_to"](7, 4)
    large = _measure(client, auth, count_queries, coop, period.id)
    grew = {page: (small[page], large[page]) for page in small if large[page] != small[page]}
    assert grew == {}, grew
