"""The counter with the connection down, in Debian's chromium at 360×740: the POS loads from its service
worker, three labels typed in make three cash sales queued on the phone; back online they sync by themselves
→ exactly three sales on the server, dated when they were made; replaying the sync changes nothing; the one
that sold a unit already gone online shows a stock discrepancy. Also: the online POS moving to the offline
counter when the connection drops, refused sales sent again or discarded, signing out from any page, and the
offline receipt (WhatsApp number, 58 mm paper)."""
import json
import time
from datetime import datetime, timedelta
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from consignment import services
from consignment.models import Sale
from marketplace.extensions import db
from marketplace.timeutil import utcnow, zone_abbreviation, zone_name
from tests.conftest import PASSWORD, launch_chromium, watch_csp

pytestmark = pytest.mark.browser


# Records that the page asked the browser to keep its storage (navigator.storage.persist), in localStorage so it
# outlives the page; persisted() says "not yet", as on a phone that never granted it.
PERSIST_PROBE = """if (navigator.storage) {
  navigator.storage.persisted = () => Promise.resolve(false);
  navigator.storage.persist = () => { localStorage.setItem('probe-persist', 'asked'); return Promise.resolve(true); };
}"""


@pytest.fixture(scope="module")
def browser(playwright):
    """These walks run the counter's service worker: a Chromium of their own, closed after them. In the
    session's shared browser, Chromium 150 could later stall for good closing another test's POS page (seen
    in the phone-layout walk, run right after these)."""
    browser = launch_chromium(playwright)
    yield browser
    browser.close()


def _offline_again(context) -> None:
    """Chromium 150 (Debian's, driven by Playwright 1.65) does not carry the context's offline emulation into
    a document loaded while offline (the service worker's kept shell): its fetches fail, but navigator.onLine
    says true, where a phone without a connection says false. Setting the emulation again reaches it (an
    `online` then an `offline` event)."""
    context.set_offline(False)
    context.set_offline(True)


def _phone(browser, init_script: str | None = None, timezone_id: str | None = None):
    """A 360×740 phone whose pages may be controlled by the counter's service worker: (context, page, CSP
    violations seen)."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="id-ID", service_workers="allow",
                                  timezone_id=timezone_id)
    if init_script:
        context.add_init_script(init_script)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page, watch_csp(page)


def _sign_in(page, live_server, user) -> None:
    page.goto(f"{live_server}/masuk")
    page.get_by_label("Email atau nomor HP").fill(user.email)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()


def _open_counter(page, live_server) -> None:
    """Open the online counter, then again under its service worker (which keeps the offline shell)."""
    page.goto(f"{live_server}/gerai/kasir")
    page.locator("html[data-pos-ready='1']").wait_for(state="attached")
    page.reload()
    page.locator("html[data-pos-ready='1']").wait_for(state="attached")


def test_offline_sales_queue_on_the_phone_and_sync_exactly_once(browser, live_server, make_user, make_lot,
                                                                  make_product):
    kasir = make_user("kasir")
    lots = [make_lot(product=make_product(name=name, price=price), quantity=qty, kasir=kasir)
            for name, price, qty in (("Keripik Pisang", 15000, 5), ("Amplang Ikan", 20000, 5), ("Sambal Acan", 12000, 1))]
    context, page, violations = _phone(browser, PERSIST_PROBE)
    try:
        _sign_in(page, live_server, kasir)
        _open_counter(page, live_server)
        assert page.evaluate("() => !!navigator.serviceWorker.controller")

        page.get_by_role("button", name="Kamera").click()  # no BarcodeDetector in desktop chromium: it says so
        expect(page.locator("#camera-message")).to_have_text(  # this one, not "not allowed" nor "point at"
            "Peramban ini tidak bisa membaca kode batang dengan kamera. Pakai Chrome di Android, pemindai, atau "
            "ketik kode di bawah kode batang.")

        last = lots[2]  # its only unit goes online while the phone is offline
        services.record_counter_sale(kasir, [services.LineRequest(last.id, 1)], "cash")

        context.set_offline(True)
        page.reload()  # no connection: the service worker answers with the kept shell
        _offline_again(context)
        assert page.locator("#pos-net").inner_text() == "Luring"
        before = utcnow()
        for lot in lots:
            page.locator("#kode").fill(lot.code.lower())
            page.locator("#kode").press("Enter")
            expect(page.locator("#total")).to_have_attribute("data-total", str(lot.unit_price))
            page.get_by_label("Uang diterima (Rp)").fill("50rb")
            assert page.locator("#change").inner_text() == services.format_rupiah(50000 - lot.unit_price)
            page.get_by_role("button", name="Catat penjualan").click()
            page.locator("#pos-receipt").wait_for(state="visible")
            assert "menunggu sinkron" in page.locator("#pos-receipt").inner_text().lower()
            page.get_by_role("button", name="Penjualan berikutnya").click()
        assert page.locator("#pos-queue-n").inner_text() == "3"
        assert page.evaluate("() => localStorage.getItem('probe-persist')") == "asked"  # queued sales are kept
        sold_at = page.evaluate("""() => new Promise(resolve => {
            indexedDB.open('pasar-pos').onsuccess = e => {
              const r = e.target.result.transaction('queue').objectStore('queue').getAll();
              r.onsuccess = () => resolve(r.result.sort((a, b) => a.seq - b.seq).map(s => s.sold_at));
            };})""")
        assert db.session.scalar(select(func.count(Sale.id)).where(Sale.channel == "offline")) == 0

        time.sleep(1)  # the sync happens clearly later than the sales
        with page.expect_response(lambda r: r.url.endswith("/gerai/kasir/sinkron")) as synced:
            context.set_offline(False)  # the connection returns: the queue syncs by itself
        sent, answer = synced.value.request.post_data, synced.value.json()
        page.locator("html[data-pos-queue='0']").wait_for(state="attached")
        db.session.expire_all()
        sales = db.session.scalars(select(Sale).where(Sale.channel == "offline").order_by(Sale.created_at)).all()
        assert len(sales) == 3 and all(s.cashier_id == kasir.id for s in sales)
        assert [s.created_at.isoformat(timespec="milliseconds") for s in sales] == [t[:-1] for t in sold_at]
        assert all(before.replace(microsecond=0) <= s.created_at < utcnow() - timedelta(seconds=1) for s in sales)

        assert len(json.loads(sent)["sales"]) == 3  # in one request, in the order they were made
        replay = page.request.post(f"{live_server}/gerai/kasir/sinkron", data=json.loads(sent))
        assert replay.ok and replay.json() == answer  # a lost answer is simply asked again: the same answer
        db.session.expire_all()
        assert db.session.scalar(select(func.count(Sale.id)).where(Sale.channel == "offline")) == 3

        assert "selisih stok" in page.locator("#pos-message").inner_text().lower()
        page.goto(f"{live_server}/dasbor")
        page.locator("#discrepancies-notice a").click()
        assert "Sambal Acan" in page.locator(".discrepancy").inner_text()
        assert violations == [], violations
    finally:
        context.close()


def test_the_online_pos_moves_to_the_offline_counter_with_its_cart_when_the_connection_drops(
        browser, live_server, make_user, make_lot, make_product):
    """The kasir has two labels in the online cart when the connection drops: the POS does not wait for the
    next scan to end on the browser's error page; it takes her to the offline counter with the same two items,
    she records the sale there, and back online the sale syncs once and the online cart is empty (the items
    were sold offline, they are not sold again)."""
    from consignment.models import PosCartLine

    kasir = make_user("kasir")
    lots = [make_lot(product=make_product(name=name, price=price), quantity=5, kasir=kasir)
            for name, price in (("Keripik Pisang", 15000), ("Amplang Ikan", 20000))]
    context, page, violations = _phone(browser)
    try:
        _sign_in(page, live_server, kasir)
        _open_counter(page, live_server)
        for count, lot in enumerate(lots, start=1):  # online: each scan posts and the page comes back
            page.locator("#kode").fill(lot.code)
            page.locator("#kode").press("Enter")
            expect(page.locator("#lines li.pos-line")).to_have_count(count)
        page.locator("html[data-pos-ready='1']").wait_for(state="attached")

        context.set_offline(True)  # no scan, no tap: the POS itself moves
        page.wait_for_url(f"{live_server}/gerai/kasir/luring")
        expect(page.locator("#lines li.pos-line")).to_have_count(2)  # the same two items, from the phone
        _offline_again(context)
        assert page.locator("#pos-net").inner_text() == "Luring"
        expect(page.locator("#pos-offline-note")).to_be_visible()
        expect(page.locator("#lines li.pos-line")).to_have_count(2)
        expect(page.locator("#total")).to_have_attribute("data-total", "35000")
        page.get_by_label("Uang diterima (Rp)").fill("50rb")
        page.get_by_role("button", name="Catat penjualan").click()
        page.locator("#pos-receipt").wait_for(state="visible")
        assert "menunggu sinkron" in page.locator("#pos-receipt").inner_text().lower()
        page.get_by_role("button", name="Penjualan berikutnya").click()

        with page.expect_response(lambda r: r.url.endswith("/gerai/kasir/sinkron")):
            context.set_offline(False)
        page.locator("html[data-pos-queue='0']").wait_for(state="attached")
        page.get_by_role("link", name="Kembali ke kasir daring").click()
        page.wait_for_url(f"{live_server}/gerai/kasir")
        expect(page.locator("#lines li.pos-line")).to_have_count(0)  # carried and sold offline: not again
        expect(page.locator("#lines")).to_contain_text("Belum ada barang")
        db.session.expire_all()
        sales = db.session.scalars(select(Sale).where(Sale.channel == "offline")).all()
        assert [(s.total, s.cash_received, s.cashier_id) for s in sales] == [(35000, 50000, kasir.id)]
        assert db.session.scalar(select(func.count(PosCartLine.id)).where(PosCartLine.cashier_id == kasir.id)) == 0
        assert [services.on_hand(lot.id) for lot in lots] == [4, 4]
        assert violations == [], violations
    finally:
        context.close()


def test_a_refused_offline_sale_can_be_sent_again_or_discarded_on_the_phone(browser, live_server, make_user, make_lot,
                                                                           make_product):
    """Two sales queued on the phone carry the token of a kasir (Rina) switched off before they sync: both come
    back refused and stay on the phone, each with *Kirim ulang* and *Buang*. Rina's account is switched on
    again and the first is sent again (recorded); the second is discarded after the confirmation."""
    from consignment import offline
    from marketplace.audit import AuditEvent
    from marketplace.models import User

    kasir, rina = make_user("kasir"), make_user("kasir", name="Rina")
    lot = make_lot(product=make_product(name="Keripik Pisang", price=15000), quantity=5, kasir=kasir)
    rina_token = offline.kasir_token(rina)
    context, page, violations = _phone(browser)
    try:
        _sign_in(page, live_server, kasir)
        _open_counter(page, live_server)
        context.set_offline(True)
        page.reload()
        _offline_again(context)
        for _sale in range(2):
            page.locator("#kode").fill(lot.code)
            page.locator("#kode").press("Enter")
            page.get_by_role("button", name="Catat penjualan").click()
            page.get_by_role("button", name="Penjualan berikutnya").click()
        page.evaluate("""token => new Promise(resolve => {  // both were made by Rina on this phone
            indexedDB.open('pasar-pos').onsuccess = e => {
              const t = e.target.result.transaction('queue', 'readwrite'), s = t.objectStore('queue');
              s.getAll().onsuccess = r => r.target.result.forEach(row => { row.token = token; row.kasir_name = 'Rina'; s.put(row); });
              t.oncomplete = () => resolve();
            };})""", rina_token)
        db.session.get(User, rina.id).active = False
        db.session.commit()

        with page.expect_response(lambda r: r.url.endswith("/gerai/kasir/sinkron")):
            context.set_offline(False)
        refused = page.locator("#pending-list li.refused")
        expect(refused).to_have_count(2)
        expect(refused.first).to_contain_text("ditolak")
        assert page.locator("#pos-queue-n").inner_text() == "0"  # nothing waits: both need a decision

        db.session.get(User, rina.id).active = True
        db.session.commit()
        with page.expect_response(lambda r: r.url.endswith("/gerai/kasir/sinkron")):
            refused.first.get_by_role("button", name="Kirim ulang").click()
        expect(refused).to_have_count(1)

        page.once("dialog", lambda dialog: dialog.dismiss())  # "no": nothing changes
        refused.first.get_by_role("button", name="Buang").click()
        expect(refused).to_have_count(1)
        page.once("dialog", lambda dialog: dialog.accept())
        refused.first.get_by_role("button", name="Buang").click()
        expect(refused).to_have_count(0)
        expect(page.locator("#pos-pending")).to_be_hidden()

        db.session.expire_all()
        sales = db.session.scalars(select(Sale).where(Sale.channel == "offline")).all()
        assert [(s.cashier_id, s.total) for s in sales] == [(rina.id, 15000)]
        assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "sale.offline_refused")) == 2
        assert violations == [], violations
    finally:
        context.close()


KEPT_KASIR = """() => new Promise(resolve => indexedDB.databases().then(list => {
    if (!list.some(d => d.name === 'pasar-pos')) { resolve('no database'); return; }
    indexedDB.open('pasar-pos').onsuccess = e => {
      const r = e.target.result.transaction('meta').objectStore('meta').get('kasir');
      r.onsuccess = () => resolve(r.result ? r.result.name : null);
    };
  }))"""


def test_signing_out_from_any_page_forgets_the_kasir_on_the_phone(browser, live_server, make_user):
    """The kasir opened the counter (the phone may sell offline as her), then signs out from the dashboard,
    not the counter: the phone forgets her. A browser that never opened the counter gets no database."""
    kasir = make_user("kasir", name="Sari")
    context, page, violations = _phone(browser)
    try:
        for opens_the_counter in (False, True):
            _sign_in(page, live_server, kasir)
            if opens_the_counter:
                page.goto(f"{live_server}/gerai/kasir")
                page.locator("html[data-pos-ready='1']").wait_for(state="attached")
                assert page.evaluate(KEPT_KASIR) == "Sari"
            page.goto(f"{live_server}/dasbor")
            with page.expect_navigation():
                page.get_by_role("button", name="Keluar").click()
            assert page.evaluate(KEPT_KASIR) == (None if opens_the_counter else "no database")
        assert violations == [], violations
    finally:
        context.close()


def _paper_mm(pdf: bytes) -> tuple[float, float]:
    import io

    from pypdf import PdfReader

    box = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    return round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)


def test_the_offline_receipt_goes_to_the_shoppers_whatsapp_and_prints_on_58_mm_paper(app, browser, live_server, make_user,
                                                                                    make_lot, make_product):
    kasir = make_user("kasir")
    lot = make_lot(product=make_product(name="Keripik Pisang", price=15000), quantity=5, kasir=kasir)
    online = services.record_counter_sale(kasir, [services.LineRequest(lot.id, 1)], "cash")
    context, page, violations = _phone(browser, timezone_id="America/Sao_Paulo")  # a phone set to another zone
    try:
        _sign_in(page, live_server, kasir)
        page.goto(f"{live_server}/gerai/penjualan/{online.id}/struk")  # the online receipt: 58 mm too
        width, length = _paper_mm(page.pdf(prefer_css_page_size=True))
        assert width == 58 and 60 < length < 200, (width, length)

        _open_counter(page, live_server)
        context.set_offline(True)
        page.reload()
        _offline_again(context)
        page.locator("#kode").fill(lot.code)
        page.locator("#kode").press("Enter")
        page.get_by_role("button", name="Catat penjualan").click()
        page.locator("#pos-receipt").wait_for(state="visible")
        # The time in the cooperative's zone, as the online receipt writes it, not the phone's.
        first_line = page.locator("#pos-receipt pre").inner_text().splitlines()[0]
        with app.test_request_context():
            zone, label = zone_name(), zone_abbreviation()
        around = [datetime.now(ZoneInfo(zone)) + timedelta(seconds=s) for s in (-60, 0, 60)]
        assert first_line.endswith(" " + label), first_line
        assert any(t.strftime("%H.%M") in first_line for t in around), (first_line, zone)

        number = page.get_by_label("Kirim struk ini ke WhatsApp pembeli")
        send = page.get_by_role("link", name="Kirim lewat WhatsApp")
        assert send.get_attribute("href").startswith("https://wa.me/?text=")  # no number yet: WhatsApp asks
        number.fill("0812-3456-7890")
        assert send.get_attribute("href").startswith("https://wa.me/6281234567890?text=")
        assert "Keripik Pisang" in unquote(send.get_attribute("href"))
        number.fill("12")
        expect(page.locator("#receipt-wa-wrong")).to_be_visible()
        assert send.get_attribute("href").startswith("https://wa.me/?text=")

        width, length = _paper_mm(page.pdf(prefer_css_page_size=True))
        assert width == 58 and 40 < length < 150, (width, length)
        page.emulate_media(media="print")  # on paper: the receipt alone, without the field and the buttons
        expect(page.locator("#pos-receipt pre")).to_be_visible()
        for hidden in ("#receipt-wa-number", "#receipt-wa", "#receipt-next", "[data-print]"):
            expect(page.locator(hidden)).to_be_hidden()
        assert violations == [], violations
    finally:
        context.close()
