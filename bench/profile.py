"""Profile the slowest measured paths with pyinstrument and write the reports to bench/results/.

    python -m bench.profile
"""
from __future__ import annotations


from pyinstrument import Profiler

from . import generate
from .run import ROOT, _search_index


def profile_two_word_search() -> str:
    from catalog.search import SearchFilters

    main = generate.build("default")
    app = generate.app_for(main)
    with app.app_context():
        engine = _search_index(main, 50_000)
        engine.search("keripik pisang", SearchFilters(), 24, 0)  # warm
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for _ in range(30):
            engine.search("keripik pisang", SearchFilters(), 24, 0)
        profiler.stop()
    return profiler.output_text(unicode=True, color=False, show_all=False)


def profile_product_page() -> str:
    from sqlalchemy import select

    from catalog.models import Product
    from marketplace.extensions import db

    main = generate.build("default")
    app = generate.app_for(main)
    app.config["PAGE_CACHE_SECONDS"] = 0
    with app.app_context():
        slug = db.session.scalar(select(Product.slug).where(Product.status == "published").order_by(Product.id))
    client = app.test_client()
    client.get(f"/produk/{slug}")
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(200):
        client.get(f"/produk/{slug}")
    profiler.stop()
    return profiler.output_text(unicode=True, color=False, show_all=False)


def main() -> None:
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "profile-search-two-words-50k.txt").write_text(profile_two_word_search())
    (out / "profile-product-page-uncached.txt").write_text(profile_product_page())
    print("profiles written to", out)


if __name__ == "__main__":
    main()
