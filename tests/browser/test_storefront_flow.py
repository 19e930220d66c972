"""A shopper on a phone: browse, search, product, cart, checkout paying at the gerai, order page.
Also: the WhatsApp order link, and the weight of the first load of /produk (budget 150 KB)."""
from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.browser
PAGE_WEIGHT_BUDGET = 150 * 1024


@pytest.fixture
def demo(app):
    from marketplace.seed import seed_demo

    from consignment.seed import seed_gerai

    seed_demo()
    seed_gerai()


def test_browse_search_product_cart_checkout_order_page(browser, live_server, demo):
    # JavaScript off: every step of shopping works without it (Snap's own page is the only exception).
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server}/")
    page.get_by_role("link", name="Produk", exact=True).first.click()
    page.get_by_label("Cari").fill("kripik pisang")
    page.locator("form[role=search] button[type=submit]").click()
    page.locator(".tile", has_text="Keripik Pisang Kepok 250 g").locator("a").click()
    assert page.locator("#availability .badge").first.inner_text() == "Tersedia"

    page.get_by_label("Jumlah").fill("2")
    page.get_by_role("button", name="Masukkan keranjang").click()
    assert "Rp30.000" in page.locator("tfoot").inner_text()
    page.get_by_role("link", name="Pesan", exact=True).click()

    page.get_by_label("Nama Anda").fill("Budi Pembeli")
    page.get_by_label("Nomor WhatsApp").fill("0812 3333 4444")
    page.get_by_label("Bayar di gerai saat mengambil").check()
    page.get_by_role("button", name="Kirim pesanan").click()

    assert page.locator("#order-status").inner_text() == "Menunggu pembayaran"
    assert "Keripik Pisang Kepok 250 g" in page.content() and "Rp30.000" in page.content()
    assert "/pesanan/" in page.url and len(page.url.rsplit("/", 1)[1]) >= 32
    context.close()


def test_whatsapp_order_link_carries_product_and_cart(page, live_server, demo):
    page.goto(f"{live_server}/produk/amplang-ikan-tenggiri")
    link = urlsplit(page.get_by_role("link", name="Pesan via WhatsApp").get_attribute("href"))
    assert (link.scheme, link.netloc, link.path) == ("https", "wa.me", "/6281234567890")
    text = parse_qs(link.query)["text"][0]
    assert "Amplang Ikan Tenggiri" in text and "Rp25.000" in text and "/produk/amplang-ikan-tenggiri" in text

    page.get_by_role("button", name="Masukkan keranjang").click()
    text = parse_qs(urlsplit(page.get_by_role("link", name="Pesan via WhatsApp").get_attribute("href")).query)["text"][0]
    assert "Amplang Ikan Tenggiri × 1 = Rp25.000" in text and "Total: Rp25.000" in text
    page.get_by_label("Atau pesan lewat WhatsApp: nama Anda").fill("Budi Pembeli")
    page.get_by_role("button", name="Tambahkan nama saya").click()
    text = parse_qs(urlsplit(page.get_by_role("link", name="Pesan via WhatsApp").get_attribute("href")).query)["text"][0]
    assert "Nama: Budi Pembeli" in text


def test_first_load_of_the_product_list_stays_under_150_kb(browser, live_server, demo):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    sizes = {}
    page.on("response", lambda r: sizes.__setitem__(r.url, len(r.body())) if r.ok else None)
    page.goto(f"{live_server}/produk", wait_until="networkidle")
    total = sum(sizes.values())
    images = [url for url in sizes if url.endswith(".webp")]
    context.close()
    print(f"\nfirst load of /produk: {total / 1024:.1f} KB in {len(sizes)} responses ({len(images)} thumbnails)")
    assert images and all("-320.webp" in url for url in images)  # small WebP thumbnails only
    assert len(images) < 24  # below-the-fold thumbnails are lazy
    assert total <= PAGE_WEIGHT_BUDGET
