"""Every page speaks through the catalogue: rendered under a pseudo-locale in which every translation is
wrapped in ⟦…⟧, no visible text of any GET page (for any role) may be left unmarked, except data.

Data is told apart by looking it up: every text value stored in the database (product and member names,
descriptions, news, notes…) counts as data, as do numbers, money, dates and a few proper names.
"""
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.dates import get_day_names, get_month_names
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from sqlalchemy import String, Text, select

from marketplace.extensions import db

ROOT = Path(__file__).resolve().parents[2]
IN_STOCK_SLUG = "keripik-pisang-kepok-250-g"  # a demo product with stock (the demo sells some out)
MARKED = re.compile(r"⟦[^⟦⟧]*⟧")
# Names that are the same in every language.
PROPER_NAMES = {"Pasar Koperasi", "WhatsApp", "Midtrans", "QRIS", "UMKM", "IP", "WIB", "WITA", "WIT", "PDF", "CSV",
                "Rp", "Google Maps", "Snap", "OpenStreetMap", "©", "EN", "ID"}
_LOCAL_WORDS = {name for width in ("wide", "abbreviated") for ctx in ("format", "stand-alone")
                for names in (get_month_names(width, ctx, "id"), get_day_names(width, ctx, "id"))
                for name in names.values()}
NOT_WORDS = re.compile(r"-?Rp\s?[\d.]+(?:,-)?|\d+(?:[.,:/]\d+)*%?|[^\w]+|_")
LETTER = re.compile(r"[^\W\d_]")
SEPARATORS = re.compile(r"\s*(?:[·|—–:;,()\[\]/×→←•]|\s-\s)\s*")
SKIP_TAGS = {"script", "style", "textarea", "svg", "code", "pre"}
VISIBLE_ATTRIBUTES = ("placeholder", "aria-label", "title", "alt")


@pytest.fixture
def app_config(app_config, tmp_path):
    """The Indonesian catalogue with every translation wrapped in ⟦…⟧, as the app's only translations."""
    with open(ROOT / "marketplace/translations/id/LC_MESSAGES/messages.po", "rb") as fh:
        catalog = read_po(fh, locale="id")
    for message in catalog:
        if message.id:
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            wrapped = tuple(f"⟦{s}⟧" for s in strings)
            message.string = wrapped if isinstance(message.string, tuple) else wrapped[0]
    target = tmp_path / "pseudo" / "id" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with open(target / "messages.mo", "wb") as fh:
        write_mo(fh, catalog)
    return {**app_config, "BABEL_TRANSLATION_DIRECTORIES": str(tmp_path / "pseudo")}


@pytest.fixture
def app(app):
    """Flask-Babel caches loaded catalogues per locale for the whole process: start from and leave an
    empty cache, so this test sees the pseudo catalogue and later tests the real one."""
    cache = app.extensions["babel"].instance.domain_instance.cache
    cache.clear()
    yield app
    cache.clear()


class _VisibleText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.texts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in SKIP_TAGS:
            self._skip += 1
        for name, value in attrs:
            if name in VISIBLE_ATTRIBUTES and value:
                self.texts.append(value)
            if tag == "input" and name == "value" and dict(attrs).get("type") in ("submit", "button") and value:
                self.texts.append(value)

    def handle_endtag(self, tag):
        if tag in SKIP_TAGS and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.texts.append(data)


# Stored codes and technical notes are not data a page may show as such: a status shown as "pending" must fail.
NOT_DATA_TABLES = {"audit_events", "alembic_version", "once_keys", "login_attempts", "payment_events"}
NOT_DATA_COLUMNS = {"status", "kind", "role", "action", "object_type", "payment_method", "method", "channel",
                    "fulfilment", "from_status", "to_status", "password_hash", "session_token", "token", "ip",
                    "client_ip"}
CODE_REASONS = {"order_events", "stock_movements"}  # their reasons are codes; words a person typed follow ": "


def _stored_text() -> str:
    """Every text value in the database that people or the seed typed, one per line: that is data."""
    values = []
    for table in db.metadata.sorted_tables:
        if table.name in NOT_DATA_TABLES:
            continue
        columns = [c for c in table.columns if isinstance(c.type, (String, Text)) and c.name not in NOT_DATA_COLUMNS]
        if columns:
            for row in db.session.execute(select(*columns)):
                for column, value in zip(columns, row):
                    if value and table.name in CODE_REASONS and column.name == "reason":
                        value = str(value).partition(": ")[2]
                    if value:
                        values.append(str(value))
    return "\n".join(values)


def _is_data(text: str, data: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(text) + r"(?!\w)", data) is not None


def unmarked_text(html: str, data: str) -> list[str]:
    """Visible pieces of a page that are neither translated (marked) nor data."""
    parser = _VisibleText()
    parser.feed(html)
    found = []
    for text in parser.texts:
        while MARKED.search(text):
            text = MARKED.sub("\n", text)
        for piece in re.split(r"\n", text):
            for part in SEPARATORS.split(piece):
                part = " ".join(part.split())
                if not part or part in PROPER_NAMES or part in _LOCAL_WORDS or _is_data(part, data):
                    continue
                words = [w for w in NOT_WORDS.split(part) if w and LETTER.search(w) and w not in PROPER_NAMES
                         and w not in _LOCAL_WORDS and not _is_data(w, data)]
                if words:
                    found.append(part)
    return found


def _real_arguments() -> dict:
    """A real value for each URL argument, per endpoint (from the demo data)."""
    from catalog.models import Product
    from consignment.models import ConsignmentLot, ReturnSlip, Sale
    from marketplace.models import Member, User
    from orders.models import Order
    from settlement.models import Payout, SettlementPeriod
    from storefront.models import BoardMember, NewsPost

    first = lambda stmt: db.session.scalar(stmt.limit(1))  # noqa: E731
    member = first(select(Member).order_by(Member.id))
    return {
        "member_id": first(select(Member.id)), "user_id": first(select(User.id).where(User.role == "kasir")),
        "post_id": first(select(NewsPost.id)), "key": "tentang", "code": first(select(ConsignmentLot.code)),
        "sale_id": first(select(Sale.id)), "order_id": first(select(Order.id)), "slip_id": first(select(ReturnSlip.id)),
        "product_id": first(select(Product.id).where(Product.member_id == member.id)),
        "period_id": first(select(SettlementPeriod.id)),
        "payout_id": first(select(Payout.id).where(Payout.member_id == member.id)),
        "token": first(select(Order.token)),
        ("storefront.news_detail", "slug"): first(select(NewsPost.slug).where(NewsPost.status == "published")),
        ("storefront.product_detail", "slug"): first(select(Product.slug).where(Product.status == "published")),
        ("storefront.member_page", "slug"): member.slug,
        ("storefront.site_board_edit", "member_id"): first(select(BoardMember.id)),
    }


SKIP_ENDPOINTS = {"static", "core.photo_file", "core.set_language", "core.reset_password"}


def _get_urls(app, args) -> list[str]:
    from flask import url_for
    from werkzeug.routing import BuildError

    urls = []
    with app.test_request_context("/"):
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint in SKIP_ENDPOINTS:
                continue
            values = {name: args.get((rule.endpoint, name), args.get(name)) for name in rule.arguments}
            if None in values.values():
                continue
            try:
                urls.append(url_for(rule.endpoint, **values))
            except BuildError:  # a second rule of an endpoint (e.g. an old address that redirects)
                continue
    return sorted(set(urls))


ROLES = [None, "keripik.acil@demo.koperasi.id", "kasir@demo.koperasi.id", "pengurus@demo.koperasi.id",
         "pengawas@demo.koperasi.id"]  # shopper, member, kasir, pengurus, pengawas (the demo accounts)


def test_every_page_for_every_role_shows_only_translated_text_or_data(app, client, runner):
    from catalog.models import Product
    from marketplace.seed import DEMO_PASSWORD
    from orders import services as orders

    assert runner.invoke(args=["seed-demo", "--quiet"]).exit_code == 0
    product = db.session.scalar(select(Product).where(Product.slug == IN_STOCK_SLUG))  # some are sold out
    orders.place_order({product.id: 1}, orders.Customer("Budi Santoso", "081211112222"), "gerai")
    data, urls = _stored_text(), _get_urls(app, _real_arguments())
    problems, pages = {}, 0
    for login in ROLES:
        client.post("/keluar")
        if login:
            assert client.post("/masuk", data={"identifier": login, "password": DEMO_PASSWORD}).status_code == 302
        for url in urls:
            response = client.get(url)
            assert response.status_code < 500, (login, url)
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            pages += 1
            unmarked = unmarked_text(response.get_data(as_text=True), data)
            if unmarked:
                problems[f"{login or 'shopper'} {url}"] = sorted(set(unmarked))
    assert pages >= 100
    assert problems == {}, "\n".join(f"{page}: {texts}" for page, texts in problems.items())
