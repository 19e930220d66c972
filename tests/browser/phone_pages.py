"""Every GET page of the URL map, filled with real ids from the demo cooperative, and what a 360-px phone
shows of it. Used by test_phone_layout.py (overflow walk) and scripts/screenshots.py (`make screenshots`)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

PHONE = {"width": 360, "height": 740}
ROLES = ("anonymous", "member", "kasir", "pengurus", "pengawas")
DEMO_EMAILS = {"member": "keripik.acil@demo.koperasi.id", "kasir": "kasir@demo.koperasi.id",
               "pengurus": "pengurus@demo.koperasi.id", "pengawas": "pengawas@demo.koperasi.id"}

# Endpoints that are not pages a person looks at: files, feeds, JSON, downloads, redirects, probes.
NOT_PAGES = {
    "static", "core.photo_file", "core.healthz", "core.set_language", "core.favicon", "core.manifest",
    "core.app_icon", "storefront.robots", "storefront.sitemap", "storefront.suggest", "settlement.period_csv",
    "settlement.statement_pdf_download", "notifications.webhook_verify",
}


def seed_demo_cooperative() -> None:
    """The demo seed (`flask seed-demo`) plus one online order waiting at the gerai (and the notifications
    seed once more, so that order's messages join the staff's short list)."""
    from consignment.seed import seed_gerai
    from marketplace.seed import seed_demo
    from orders.models import Order
    from orders.services import Customer, place_order
    from settlement.seed import seed_settlement
    from storefront.seed import seed_microsite

    from marketplace.extensions import db
    from catalog.models import Product

    seed_demo()
    seed_gerai()
    seed_settlement()
    seed_microsite()
    _waiting_qris_payment()
    from joining.seed import seed_join_requests

    seed_join_requests()
    if db.session.scalar(select(Order.id).limit(1)) is None:
        product = db.session.scalar(select(Product).where(Product.slug == "keripik-pisang-kepok-250-g"))
        place_order({product.id: 2}, Customer(name="Budi Pembeli", phone="081233334444", notes="Ambil sore"),
                    "gerai")
    from notifications.seed import seed_notifications

    seed_notifications()


def _waiting_qris_payment() -> None:
    """A QRIS code the demo kasir is showing (its page is walked like every other)."""
    from datetime import timedelta

    from marketplace.accounts import find_user
    from marketplace.extensions import db
    from marketplace.timeutil import utcnow
    from qris.models import CounterPayment
    from tests.conftest import qris_string

    if db.session.scalar(select(CounterPayment.id).limit(1)) is None:
        number = "QR261125-900001"
        db.session.add(CounterPayment(number=number, cashier_id=find_user(DEMO_EMAILS["kasir"]).id, total=62500,
                                      expires_at=utcnow() + timedelta(days=3650), qr_string=qris_string(number, 62500)))
        db.session.commit()


def reset_token(pengurus, user) -> str:
    """A password link's token, made as from the pengurus's page (a link needs the site's address)."""
    from flask import current_app

    from marketplace.accounts import create_reset_link_token

    with current_app.test_request_context():
        return create_reset_link_token(pengurus, user)


def demo_values() -> dict[str, dict[str, object]]:
    """Real URL values for each endpoint's arguments (by endpoint, then by argument name)."""
    from catalog.models import Product
    from consignment.models import ConsignmentLot, ReturnSlip, Sale
    from marketplace.accounts import find_user
    from marketplace.extensions import db
    from marketplace.models import Member, User
    from orders.models import Order
    from qris.models import CounterPayment
    from settlement.models import Payout, SettlementPeriod
    from storefront.models import BoardMember, NewsPost
    from joining.models import JoinRequest

    def first(column, *where):
        return db.session.scalar(select(column).where(*where).order_by(column).limit(1))

    member = find_user(DEMO_EMAILS["member"]).member
    product = db.session.scalar(select(Product).where(Product.member_id == member.id).order_by(Product.id).limit(1))
    lot = db.session.scalar(select(ConsignmentLot).where(ConsignmentLot.member_id == member.id)
                            .order_by(ConsignmentLot.id).limit(1))
    order = db.session.scalar(select(Order).order_by(Order.id).limit(1))
    payout = db.session.scalar(select(Payout).where(Payout.member_id == member.id).order_by(Payout.id).limit(1))
    pengurus = find_user(DEMO_EMAILS["pengurus"])
    by_name = {
        "product_id": product.id, "code": lot.code, "sale_id": first(Sale.id), "slip_id": first(ReturnSlip.id),
        "user_id": find_user(DEMO_EMAILS["kasir"]).id, "member_id": member.id,
        "period_id": first(SettlementPeriod.id), "payout_id": payout.id if payout else first(Payout.id),
        "order_id": order.id, "token": order.token, "slug": product.slug, "post_id": first(NewsPost.id),
        "key": "profil", "payment_id": first(CounterPayment.id), "join_id": first(JoinRequest.id),
        "codes": list(db.session.scalars(select(ConsignmentLot.code).order_by(ConsignmentLot.id).limit(3))),
    }
    return {
        "": by_name,
        "storefront.member_page": {"slug": member.slug},
        "storefront.news_detail": {"slug": db.session.scalar(select(NewsPost.slug).order_by(NewsPost.id).limit(1))},
        "storefront.site_board_edit": {"member_id": first(BoardMember.id)},
        "core.reset_password": {"token": reset_token(pengurus, db.session.get(User, by_name["user_id"]))},
        "core.member_edit": {"member_id": first(Member.id)},
        "catalog.import_preview": {"token": demo_import(member.user)},
    }


# A spreadsheet a member might send: one row ready, one updating a demo product, two with errors.
DEMO_IMPORT = ("nama,harga,satuan,kategori,status\n"
               "Keripik Singkong Balado 200 g,12rb,bungkus 200 g,,terbit\n"
               "Keripik Pisang Kepok 250 g,16.000,bungkus 250 g,,terbit\n"
               "Dodol Kandangan Rasa Durian Asli Tanpa Pengawet Kemasan Besar,\"15,5x\",kotak,Kue Basah,tampil\n"
               ",9000,pcs,,\n")


def demo_import(user) -> str:
    """A pending spreadsheet import of the demo member (catalog/bulk_import.py), for its preview page."""
    import io

    from catalog.bulk_import import ImportFile, start_import

    return start_import(user, None, ImportFile("produk-acil.csv", io.BytesIO(DEMO_IMPORT.encode())))


@dataclass
class Page:
    endpoint: str
    url: str


def get_pages(app, values: dict[str, dict[str, object]]) -> list[Page]:
    """One URL for each rule answering GET that is a page (not a file, JSON or download)."""
    pages = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.endpoint in NOT_PAGES:
            continue
        args = {}
        for name in rule.arguments:
            if rule.defaults and name in rule.defaults:
                continue
            if name in values.get(rule.endpoint, {}):
                args[name] = values[rule.endpoint][name]
            else:
                args[name] = values[""][name]  # a KeyError here: a new URL argument needs a demo value
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **args, **{k: v for k, v in (rule.defaults or {}).items() if k not in args})
        pages.append(Page(rule.endpoint, url))
    return pages


def sign_in(context, base_url: str, role: str) -> None:
    """Sign the browser context in as the demo user of `role` (anonymous: do nothing)."""
    if role == "anonymous":
        return
    from marketplace.seed import DEMO_PASSWORD

    page = context.new_page()
    page.goto(f"{base_url}/masuk")
    page.locator("input[name=identifier]").fill(DEMO_EMAILS[role])
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert "/masuk" not in page.url, f"signing in as {role} failed"
    close_quietly(page)


def fill_carts(context, base: str, role: str, values: dict) -> None:
    """Something in the shopper's cart and in the kasir's POS, so those screens show their totals."""
    page = context.new_page()
    if role == "anonymous":
        page.goto(f"{base}/produk/{values['slug']}")
        page.locator("form[action$='/keranjang/tambah'] button[type=submit]").first.click()
    elif role == "kasir":
        for code in values["codes"]:
            page.goto(f"{base}/gerai/kasir")
            page.locator("#kode").fill(code)
            page.locator("form.pos-scan button[type=submit]").click()
    close_quietly(page)


def close_quietly(page) -> None:
    """Leave the page for a blank one, then close it. Closing the POS page while its scripts were still busy
    (IndexedDB, the lot snapshot, the sync) stalled Debian's Chromium 150 for good in clean-clone CI runs;
    unloading it first the way a navigation does, then closing an empty page, never did."""
    page.goto("about:blank")
    page.close()


# What a phone shows too wide: the document itself, and every element reaching past the right edge.
OVERFLOW_JS = """() => {
  const root = document.documentElement, width = root.clientWidth, found = [];
  if (root.scrollWidth > width) found.push(`document is ${root.scrollWidth}px wide`);
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    if (box.right > width + 0.5 || box.width > width + 0.5) {
      const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
        (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
      found.push(`${name} reaches ${Math.round(box.right)}px (${Math.round(box.width)}px wide)`);
      if (found.length > 5) break;
    }
  }
  return found;
}"""

# Buttons and form fields a thumb cannot hit: less than 44 CSS px high (check boxes and radio buttons are
# tapped through their label, which is made tall enough instead).
SMALL_TARGETS_JS = """() => {
  const found = [];
  for (const el of document.querySelectorAll(
      'button, .btn, select, textarea, input:not([type=hidden]):not([type=checkbox]):not([type=radio])')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    if (box.height < 43.5) found.push(`${el.tagName.toLowerCase()} "${(el.innerText || el.name || '').trim().slice(0, 30)}" is ${Math.round(box.height)}px high`);
  }
  return found.slice(0, 5);
}"""
