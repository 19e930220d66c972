"""`make screenshots`: the busiest screens of each role on a 360×740 phone, as PNG files in screenshots/
(git-ignored; the whole page and its first screen), from a fresh demo cooperative in a temporary database.
For looking at, not for tests."""
from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from marketplace import create_app  # noqa: E402
from tests.browser.phone_pages import PHONE, ROLES, demo_values, fill_carts, seed_demo_cooperative, sign_in  # noqa: E402
from tests.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

OUT = ROOT / "screenshots"

# (file name, URL template) per role, the screens each role uses most, busiest first.
SCREENS = {
    "anonymous": [("home", "/"), ("products", "/produk"), ("search", "/produk?q=keripik+pisang"),
                  ("product", "/produk/{slug}"), ("cart", "/keranjang"), ("checkout", "/checkout"),
                  ("order", "/pesanan/{token}"), ("member-page", "/umkm/{member_slug}"), ("about", "/tentang"),
                  ("sign-in", "/masuk"), ("join", "/titip-produk")],
    "member": [("dashboard", "/dasbor"), ("my-products", "/kelola/produk"), ("new-product", "/kelola/produk/baru"),
               ("edit-product", "/kelola/produk/{product_id}/ubah"), ("my-goods", "/gerai/saya"),
               ("my-balance", "/saya/saldo"), ("statement", "/pernyataan/{payout_id}"), ("home", "/"),
               ("product", "/produk/{slug}"), ("password", "/akun/kata-sandi"), ("inbox", "/saya/pemberitahuan"),
               ("notification-settings", "/saya/pemberitahuan/pengaturan"), ("import", "/kelola/impor")],
    "kasir": [("pos", "/gerai/kasir"), ("pos-search", "/gerai/kasir?cari=keripik"), ("intake", "/gerai/terima"), ("receipt", "/gerai/penjualan/{sale_id}/struk"),
              ("labels", "/gerai/lot/{code}/label"), ("orders", "/gerai/pesanan"), ("order", "/gerai/pesanan/{order_id}"),
              ("lots", "/gerai/"), ("lot", "/gerai/lot/{code}"), ("sales", "/gerai/penjualan"), ("returns", "/gerai/retur"),
              ("offline-pos", "/gerai/kasir/luring"), ("messages-to-send", "/gerai/pesan")],
    "pengurus": [("dashboard", "/dasbor"), ("members", "/admin/anggota"), ("periods", "/penyelesaian"),
                 ("period", "/penyelesaian/{period_id}"), ("statement", "/pernyataan/{payout_id}"),
                 ("sales-report", "/gerai/laporan/penjualan"), ("stock-report", "/gerai/laporan/stok"),
                 ("aging", "/gerai/laporan/umur"), ("users", "/admin/pengguna"), ("site", "/admin/situs"),
                 ("join-requests", "/admin/pendaftaran"), ("export", "/admin/ekspor"), ("discrepancies", "/gerai/selisih"),
                 ("stock-report-member-typed", "/gerai/laporan/stok?cari_anggota=a")],
    "pengawas": [("dashboard", "/dasbor"), ("audit", "/admin/audit"), ("sales-report", "/gerai/laporan/penjualan"),
                 ("stock-report", "/gerai/laporan/stok"), ("aging", "/gerai/laporan/umur"), ("periods", "/penyelesaian"),
                 ("period", "/penyelesaian/{period_id}"), ("sales", "/gerai/penjualan"), ("agreements", "/gerai/perjanjian"),
                 ("transparency", "/transparansi")],
}


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="pasar-screens-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{work / 'demo.sqlite3'}", "SECRET_KEY": "screenshots",
                      "MEDIA_ROOT": str(work / "media"), "SEARCH_INDEX_DIR": str(work / "index"),
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "WTF_CSRF_ENABLED": False,
                      "PAGE_CACHE_SECONDS": 0, "SERVER_NAME": None})
    with app.app_context():
        from flask_migrate import upgrade
        from sqlalchemy import select

        from marketplace.extensions import db
        from marketplace.models import Member

        upgrade()
        seed_demo_cooperative()
        by_name = demo_values()
        values = dict(by_name[""])
        values["member_slug"] = by_name["storefront.member_page"]["slug"]
        assert db.session.scalar(select(Member.id).limit(1))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    OUT.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for role in ROLES:
            context = browser.new_context(viewport=PHONE, locale="id-ID", is_mobile=True, has_touch=True,
                                          device_scale_factor=1)
            sign_in(context, base, role)
            fill_carts(context, base, role, values)
            page = context.new_page()
            for n, (name, url) in enumerate(SCREENS[role], start=1):
                page.goto(base + url.format(**values))
                page.wait_for_load_state("networkidle")
                # The whole page, and the first screen as the phone shows it (sticky bars where they sit).
                for path, full in ((OUT / f"{role}-{n:02d}-{name}-first-screen.png", False),
                                   (OUT / f"{role}-{n:02d}-{name}.png", True)):
                    page.screenshot(path=str(path), full_page=full)
                    print(path.relative_to(ROOT))
            context.close()
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()
