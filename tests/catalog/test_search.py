"""Search on a real Whoosh index with Indonesian stemming, fed through the product services."""
import multiprocessing
import time
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select

from catalog import services
from catalog.models import SearchOutbox
from catalog.search import SearchFilters, _maintenance_lock, drain_outbox, engine, reindex_all, search_products
from marketplace.extensions import db


def names(text, **filters):
    from storefront.services import tiles_by_ids

    page = search_products(text, SearchFilters(**filters))
    return [p.name for p in tiles_by_ids(page.ids)]


@pytest.fixture
def shop(make_member, make_product, make_category):
    snacks = make_category("Makanan Ringan")
    drinks = make_category("Minuman Herbal")
    acil = make_member(business_name="Keripik Acil Banjar")
    jamu = make_member(business_name="Jamu Mama Ijah")
    make_product(acil, name="Keripik Pisang Kepok", price=15000, category_id=snacks.id,
                 description="Keripik pisang renyah")
    make_product(acil, name="Keripik Singkong Balado", price=12000, category_id=snacks.id)
    make_product(jamu, name="Jamu Kunyit Asam", price=12000, category_id=drinks.id, description="Minuman segar")
    make_product(jamu, name="Wedang Jahe Merah", price=25000, category_id=drinks.id)
    return {"snacks": snacks, "drinks": drinks}


def test_spelling_variant_kripik_finds_keripik_pisang_kepok(shop):
    assert names("kripik pisang")[0] == "Keripik Pisang Kepok"


def test_typo_is_forgiven(shop):
    assert "Keripik Pisang Kepok" in names("keripik pisagn")


def test_stemming_finds_makanan_ringan_when_searching_makan(shop):
    assert set(names("makan")) == {"Keripik Pisang Kepok", "Keripik Singkong Balado"}


def test_prefix_matches_as_the_user_types(shop):
    assert set(names("kerip")) == {"Keripik Pisang Kepok", "Keripik Singkong Balado"}
    assert names("wed") == ["Wedang Jahe Merah"]


def test_member_business_name_is_searchable(shop):
    assert set(names("acil")) == {"Keripik Pisang Kepok", "Keripik Singkong Balado"}


def test_filters_by_category_and_price_range(shop):
    assert names("", category_id=shop["drinks"].id, sort="price_asc") == ["Jamu Kunyit Asam", "Wedang Jahe Merah"]
    assert set(names("keripik", max_price=13000)) == {"Keripik Singkong Balado"}
    assert names("", min_price=20000) == ["Wedang Jahe Merah"]


def test_unrelated_words_find_nothing(shop):
    assert names("sepatu kulit") == []


def test_edit_archive_and_publish_update_the_index(shop):
    from catalog.models import Product

    product = db.session.scalar(select(Product).where(Product.name == "Wedang Jahe Merah"))
    user = product.member.user
    services.update_product(user, product, services.ProductData(name="Wedang Uwuh Rempah", price=25000,
                                                                unit="pcs", status="published"))
    assert names("uwuh") == ["Wedang Uwuh Rempah"] and names("jahe") == []
    services.change_status(user, product, "archived")
    assert names("uwuh") == []
    services.change_status(user, product, "published")
    assert names("uwuh") == ["Wedang Uwuh Rempah"]


def test_a_word_in_the_name_ranks_above_the_same_word_repeated_in_a_description(make_member, make_product):
    member = make_member(business_name="UMKM Sungai Tabuk")
    make_product(member, name="Kue Bingka Kentang", price=30000,
                 description="Bukan amplang. " + "amplang " * 12)  # keyword stuffing
    make_product(member, name="Amplang Ikan Tenggiri", price=20000, description="Renyah")
    make_product(member, name="Kerupuk Amplang Pipih", price=18000)
    top_two = names("amplang")[:2]
    assert sorted(top_two) == ["Amplang Ikan Tenggiri", "Kerupuk Amplang Pipih"]
    assert names("amplang")[2] == "Kue Bingka Kentang"


def test_a_misspelt_word_ranks_like_the_correct_spelling(shop):
    assert names("kripik pisang") == names("keripik pisang")
    assert names("kripik pisang")[0] == "Keripik Pisang Kepok"


def test_draft_products_are_not_searchable(make_product):
    make_product(name="Rahasia Dapur", status="draft")
    assert names("rahasia") == []


@contextmanager
def _whoosh_writer_held():
    writer = engine().writer()
    try:
        yield
    finally:
        writer.cancel()


@pytest.mark.parametrize("busy", [_whoosh_writer_held, lambda: _maintenance_lock(1)],
                         ids=["index-writer-held", "another-drain-running"])
def test_busy_index_keeps_the_change_queued_until_the_next_drain(app, make_member, busy):
    app.config["SEARCH_LOCK_TIMEOUT"] = 0.2
    member = make_member()
    with busy():  # as if another process were writing the index
        services.create_product(member.user, services.ProductData(name="Amplang Tenggiri", price=25000,
                                                                  unit="pcs", status="published"))
        assert names("amplang") == []
        assert db.session.scalar(select(func.count(SearchOutbox.id))) == 1
    assert drain_outbox() == 1
    assert names("amplang") == ["Amplang Tenggiri"]


def test_reindex_rebuilds_from_the_database(shop, app):
    import shutil

    shutil.rmtree(app.config["SEARCH_INDEX_DIR"])
    app.extensions["search"].__init__(app.config["SEARCH_INDEX_DIR"])
    assert names("kripik") == []
    assert reindex_all() == 4
    assert names("kripik pisang")[0] == "Keripik Pisang Kepok"


def _slow_outbox_delete(conn, cursor, statement, parameters, context, executemany):
    if statement.lstrip().upper().startswith("DELETE FROM SEARCH_OUTBOX"):
        time.sleep(0.1)


def _create_products_in_another_process(config, member_id, prefix, count, barrier):
    from marketplace import create_app
    from marketplace.extensions import db
    from marketplace.models import Member

    app = create_app(config)
    with app.app_context():
        # Widen the race window: the moment between writing the index and deleting the applied
        # outbox rows is where another drain must not be able to read those rows.
        event.listen(db.engine, "before_cursor_execute", _slow_outbox_delete)
        member = db.session.get(Member, member_id)
        barrier.wait(timeout=30)
        for i in range(count):
            services.create_product(member.user, services.ProductData(
                name=f"{prefix} Produk {i}", price=10000 + i, unit="pcs", status="published"))
        db.session.remove()
        db.engine.dispose()


def test_several_worker_processes_writing_at_once_lose_no_update(app, app_config, make_member):
    member = make_member()
    ctx = multiprocessing.get_context("spawn")
    prefixes = ("Alfa", "Bravo", "Charlie", "Delta")
    barrier = ctx.Barrier(len(prefixes))
    workers = [ctx.Process(target=_create_products_in_another_process,
                           args=(app_config, member.id, prefix, 12, barrier)) for prefix in prefixes]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    drain_outbox()
    for prefix in prefixes:
        assert search_products(prefix.lower(), SearchFilters()).total == 12
    assert engine().document_count() == 48


def test_tie_skipping_intersection_ranks_exactly_like_whoosh_and(tmp_path):
    """The faster AND (it skips blocks that can only tie the collector's minimum) must return the
    same top results, in the same order, as Whoosh's own And over an index full of tied scores."""
    import random
    from datetime import datetime

    from whoosh import query as Q

    from catalog.search import ProductDocument, WhooshEngine, _AllWords

    rng = random.Random(7)
    words = ["keripik", "pisang", "singkong", "pedas", "manis", "kue", "bawang", "sambal"]

    def doc(i: int) -> ProductDocument:
        # Three score levels per query: words only in the description (the first documents), one
        # word in the name, both in the name (rare), with many ties inside each level. The
        # collector's minimum rises while it reads, which is where block skipping decides what is found.
        a, b = rng.sample(words, 2)
        other = rng.choice([w for w in words if w not in (a, b)])
        roll = rng.random()
        if i <= 300:
            name, description = other, f"{a} {b}"
        elif roll < 0.04:
            name, description = f"{a} {b}", ""
        elif roll < 0.9:
            name, description = f"{a} {other}", b
        else:
            name, description = other, ""
        return ProductDocument(id=i, name=name, description=description, category="", category_id=None,
                               member="UMKM", price=1000 + i, published_at=datetime(2026, 1, 1))

    docs = [doc(i) for i in range(1, 6001)]
    eng = WhooshEngine(tmp_path / "ix")
    eng.rebuild(docs)
    searcher = eng._current_searcher()
    for terms in (["keripik", "pisang"], ["pedas", "manis"], ["kue", "bawang", "sambal"]):
        subqueries = [Q.Term("all", t) for t in terms]
        for limit in (1, 10, 24, 60):
            expected = [(round(h.score, 9), h.docnum) for h in searcher.search(Q.And(subqueries), limit=limit)]
            got = [(round(h.score, 9), h.docnum) for h in searcher.search(_AllWords(subqueries), limit=limit)]
            assert len(expected) == limit
            assert got == expected, (terms, limit)


def test_a_word_many_names_share_is_ranked_without_scoring_every_product_that_has_it(tmp_path):
    """Whoosh's top-N collector starts skipping posting blocks only once a document replaces another in its
    full heap; when the first twenty already tie at the best score nothing ever does, and every match was
    scored. The engine's collector starts skipping as soon as its heap is full, and finds the same page."""
    from datetime import datetime

    from whoosh import collectors
    from whoosh import query as Q

    from catalog.search import ProductDocument, WhooshEngine, _TopCollector

    docs = [ProductDocument(id=i, name=f"Keripik Rasa {i}", description="", category="", category_id=None,
                            member="UMKM", price=1000 + i, published_at=datetime(2026, 1, 1)) for i in range(1, 3001)]
    eng = WhooshEngine(tmp_path / "ix")
    eng.rebuild(docs)
    searcher = eng._current_searcher()
    query = Q.Term("all", "keripik")
    whoosh_own, ours = collectors.TopCollector(20), _TopCollector(20)
    searcher.search_with_collector(query, whoosh_own)
    searcher.search_with_collector(query, ours)
    assert [(h.score, h.docnum) for h in ours.results()] == [(h.score, h.docnum) for h in whoosh_own.results()]
    assert whoosh_own.total == 3000
    assert ours.total < 300  # the first posting block or so, not every product named "keripik"
    assert eng.search("keripik", SearchFilters(), limit=20, offset=40).ids == list(range(41, 61))


def test_a_repeated_search_is_answered_from_kept_results_until_the_index_changes(shop, make_member, make_product,
                                                                                  monkeypatch):
    from catalog.search import WhooshEngine

    reads = []
    run = WhooshEngine._run.__func__
    monkeypatch.setattr(WhooshEngine, "_run", classmethod(lambda cls, *a: reads.append(a[1]) or run(cls, *a)))
    first = search_products("keripik", SearchFilters())
    first.ids.append(999)  # a caller changing its page changes nothing kept
    again = search_products("keripik", SearchFilters())
    assert len(reads) == 1
    assert again.ids == first.ids[:-1] and again.total == 2
    search_products("keripik", SearchFilters(sort="price_asc"))
    search_products("keripik", SearchFilters(), offset=20)
    assert len(reads) == 3  # other sorts and pages are their own searches

    make_product(make_member(business_name="Dapur Nini"), name="Keripik Tempe Sagu")  # drained into the index
    assert "Keripik Tempe Sagu" in names("keripik")
    assert len(reads) == 4
