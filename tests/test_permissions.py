"""No route escapes its permission declaration.

One walk over `app.url_map` × every role × every method of each rule, with URLs built from real ids
(another member's ids for the member who does not own them). It fails when a view has no declaration
(`@public`, `@signed_in` or `@roles_required`, see marketplace/security.py), or answers outside it:

- a role the declaration does not name: anonymous -> sent to sign in (302 to /masuk, or 401);
  signed in -> 403; and a refused POST changed nothing in the database;
- a role it names: never 403 and never sent to sign in, and a GET answers below 400 (so the ids are real);
- object-level rules (a member edits only their own product, reads only their own statement) are
  declared below in OBJECT_LEVEL and asserted exactly for the member who does not own the objects.

POSTs carry no data, so an allowed one is refused by its form and a refused one has nothing to act on.
"""
from __future__ import annotations

import io
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from flask import url_for
from sqlalchemy import func, select

from catalog import bulk_import
from consignment import offline as offline_sales
from consignment import services as gerai
from joining.models import JoinRequest
from marketplace import accounts, pending_photos
from marketplace.extensions import db
from marketplace.security import PUBLIC, SIGNED_IN, declared_access, public, roles_required
from marketplace.timeutil import local_today, utcnow
from notifications.models import Notification
from qris.models import CounterPayment
from settlement import services as settlement
from storefront import microsite
from tests.conftest import PASSWORD, jpeg_bytes, qris_string

from orders import services as orders

# "stranger" is a member signed in while the URLs carry another member's product, photo and statement.
ROLES = [None, "member", "stranger", "kasir", "pengurus", "pengawas"]
ROLE_NAME = {"member": "member", "stranger": "member", "kasir": "kasir", "pengurus": "pengurus",
             "pengawas": "pengawas"}
EXEMPT_ENDPOINTS = {"static"}  # Flask's own static files: public by nature, no view of ours
SKIPPED_METHODS = {"HEAD", "OPTIONS"}  # HEAD runs the GET view; OPTIONS is answered by Flask itself

# What a member gets for another member's objects: refused by the object-level rule, not by the role.
OBJECT_LEVEL = {
    ("catalog.product_edit", "GET"): 403,
    ("catalog.product_edit", "POST"): 403,
    ("catalog.product_status", "POST"): 403,
    ("catalog.photo_move", "POST"): 403,
    ("catalog.photo_delete", "POST"): 403,
    ("settlement.statement", "GET"): 403,
    ("settlement.statement_pdf_download", "GET"): 403,
}
# What every signed-in account but the owner gets: a photo kept from a failed form is its uploader's alone.
OWNER_ONLY = {
    ("core.pending_photo", "GET"): 404,
}

# Public endpoints authenticated by their caller's signature or token instead of a sign-in (Meta's webhook):
# without one, everybody is refused with 403 and nothing changes.
SIGNED_BY_SENDER = {
    ("notifications.webhook_verify", "GET"): 403,
    ("notifications.webhook", "POST"): 403,
}

# --- the walker --------------------------------------------------------------------------------------

def undeclared_endpoints(app) -> list[str]:
    """Endpoints whose view carries no permission declaration."""
    return sorted(endpoint for endpoint, view in app.view_functions.items()
                  if endpoint not in EXEMPT_ENDPOINTS and declared_access(view) is None)


def requests_to_make(app):
    """(rule, method, endpoint, access) for every method of every rule, GETs before POSTs (so a POST
    that deletes something cannot turn a later GET into a 404)."""
    found = [(rule, method, rule.endpoint, declared_access(app.view_functions[rule.endpoint]))
             for rule in app.url_map.iter_rules() if rule.endpoint not in EXEMPT_ENDPOINTS
             for method in sorted(rule.methods - SKIPPED_METHODS)]
    return sorted(found, key=lambda r: (r[1] != "GET", r[0].rule, r[1]))


def allowed(access: tuple[str, ...], role: str | None) -> bool:
    if PUBLIC in access:
        return True
    if SIGNED_IN in access:
        return role is not None
    return role is not None and ROLE_NAME[role] in access


def sent_to_sign_in(response, login_path: str) -> bool:
    if response.status_code == 401:
        return True
    return response.status_code in (301, 302, 303) and \
        urlsplit(response.headers.get("Location", "")).path == login_path


def verdict(access, role, method, response, login_path: str, expected: int | None = None):
    """What is wrong with `response` to `role` for a view declared `access`; None when nothing is."""
    status, to_sign_in = response.status_code, sent_to_sign_in(response, login_path)
    if access is None:
        return "has no permission declaration"
    if expected is not None:
        return None if status == expected else f"answered {status}, the object-level rule says {expected}"
    if not allowed(access, role):
        if role is None:
            return None if to_sign_in else f"answered {status} to anonymous, not sent to sign in"
        return None if status == 403 else f"answered {status}, not 403"
    if to_sign_in or status == 403:
        return f"refused ({status}) although declared {access}"
    if method == "GET" and status >= 400:
        return f"answered {status} to a declared role: is the URL built from real ids?"
    return None


def database_state() -> tuple:
    """Row counts of every table, and how many rows have each status / active flag (updates that add no
    row; every service also writes an audit event, which the counts see)."""
    tables = db.metadata.sorted_tables
    counts = db.session.execute(select(*[select(func.count()).select_from(t).scalar_subquery().label(t.name)
                                         for t in tables])).one()
    flags = []
    for table in tables:
        for name in ("status", "active"):
            if name in table.c:
                flags.append((table.name, name, sorted(db.session.execute(
                    select(table.c[name], func.count()).group_by(table.c[name])).all(), key=repr)))
    db.session.rollback()
    return tuple(counts), tuple(flags)


def sign_in(client, who) -> None:
    if who is not None:
        response = client.post("/masuk", data={"identifier": who, "password": PASSWORD})
        assert response.status_code == 302, f"could not sign in as {who}"


def still_signed_in(client) -> bool:
    with client.session_transaction() as session:
        return "_user_id" in session


def walk(app, client, role, identifier, url_args, only=lambda rule: True) -> list[str]:
    """Send every method of every rule to `app` as `role` (signed in as `identifier`); return problems."""
    with app.test_request_context():
        login_path = url_for("core.login")
    problems = [f"{endpoint}: has no permission declaration" for endpoint in undeclared_endpoints(app)
                if any(only(r.rule) for r in app.url_map.iter_rules(endpoint=endpoint))]
    sign_in(client, identifier)
    for rule, method, endpoint, access in requests_to_make(app):
        if access is None or not only(rule.rule):
            continue
        try:
            args = url_args(rule)
        except KeyError as missing:
            problems.append(f"{method} {rule.rule}: no real id for {missing} (add one to the world fixture)")
            continue
        with app.test_request_context():
            url = url_for(endpoint, **args)
        expected = SIGNED_BY_SENDER.get((endpoint, method)) or \
            (OBJECT_LEVEL.get((endpoint, method)) if role == "stranger" else None) or \
            (OWNER_ONLY.get((endpoint, method)) if role not in (None, "member") else None)
        must_not_change = method != "GET" and (expected is not None or not allowed(access, role))
        before = database_state() if must_not_change else None
        response = client.open(url, method=method, data=None if method == "GET" else {})
        problem = verdict(access, role, method, response, login_path, expected)
        if problem:
            problems.append(f"{method} {url} as {role}: {problem}")
        elif must_not_change and database_state() != before:
            problems.append(f"{method} {url} as {role}: refused ({response.status_code}) but changed the database")
        if identifier is not None and not still_signed_in(client):  # e.g. POST /keluar
            sign_in(client, identifier)
    return problems


# --- a world with one of everything --------------------------------------------------------------------

@pytest.fixture
def world(app, make_user, make_member, make_product, make_lot):
    """One of each object a URL can name, owned by `member`; `stranger` is another member. Returns the
    sign-in identifier of each role and `url_args(rule)`, the real values for a rule's arguments."""
    pengurus, kasir = make_user("pengurus"), make_user("kasir")
    member, stranger = make_member(), make_member()
    make_product(stranger)
    product = make_product(member, photos=2)
    lot = make_lot(product, quantity=10, kasir=kasir)
    sale = gerai.record_counter_sale(kasir, [gerai.LineRequest(lot.id, 1)], "cash")
    slip = gerai.return_to_member(kasir, member.id, [gerai.LineRequest(lot.id, 1)])
    period = settlement.close_period(pengurus, settlement.open_period(pengurus, local_today()).id)
    payout = next(p for p in period.payouts if p.member_id == member.id)
    staff = make_user("kasir")  # the account the staff pages name (not one that signs in)
    with app.test_request_context():  # as from the pengurus's page: the link's address is the site's
        token = accounts.create_reset_link_token(pengurus, staff)
    post = microsite.save_news(pengurus, microsite.NewsData(title="Gerai kedua dibuka", body_markdown="Di Martapura",
                                                            status="published"))
    board = microsite.save_board_member(pengurus, microsite.BoardMemberData(name="Siti", position="Ketua"))
    order = orders.place_order({product.id: 1}, orders.Customer("Budi", "081211112222"), "gerai")
    payment = CounterPayment(number="QR261125-000077", cashier_id=kasir.id, total=15000,
                             expires_at=utcnow() + timedelta(minutes=15), qr_string=qris_string("QR261125-000077", 15000))
    db.session.add(payment)
    db.session.commit()
    kept = pending_photos.keep(jpeg_bytes(), "foto.jpg", member.user.id, "photos")
    pending_import = bulk_import.start_import(member.user, None, bulk_import.ImportFile(
        "produk.csv", io.BytesIO(b"nama,harga\nKeripik,15000\n")))
    short_lot = make_lot(product, quantity=1, kasir=kasir)  # sold twice offline: a stock discrepancy
    oversold = offline_sales.sync_offline_sale("0f0e0d0c-0b0a-4908-8706-050403020100", offline_sales.kasir_token(kasir),
                                               utcnow(), [offline_sales.OfflineLine(short_lot.code, 2)])
    join = JoinRequest(business_name="Dodol Ramlah", owner_name="Ramlah", whatsapp="6281377778888",
                       address="Kandangan", makes="Dodol", ip="127.0.0.1")
    db.session.add(join)
    db.session.commit()
    notification_id = db.session.scalar(select(Notification.id).where(Notification.user_id == member.user.id)
                                        .order_by(Notification.id).limit(1))
    by_name = {"code": lot.code, "sale_id": sale.id, "slip_id": slip.id, "product_id": product.id,
               "photo_id": product.photos[0].id, "period_id": period.id, "payout_id": payout.id,
               "order_id": order.id, "token": order.token, "user_id": staff.id, "member_id": member.id,
               "post_id": post.id, "payment_id": payment.id, "key": "tentang", "join_id": join.id,
               "notification_id": notification_id,
               "discrepancy_id": offline_sales.open_discrepancies()[0].id if oversold["discrepancies"] else 0, "name": product.photos[0].variant_name(320)}
    by_rule = {  # where an argument's name alone does not say what it is
        "/produk/<slug>": {"slug": product.slug},
        "/umkm/<slug>": {"slug": member.slug},
        "/berita/<slug>": {"slug": post.slug},
        "/bahasa/<code>": {"code": "id"},
        "/atur-sandi/<token>": {"token": token},
        "/foto-tersimpan/<token>": {"token": kept.token},
        "/kelola/impor/<token>": {"token": pending_import},
        "/admin/situs/pengurus/<int:member_id>": {"member_id": board.id},
        "/ikon-<int:size>.png": {"size": 192},
    }

    def url_args(rule) -> dict:
        given = by_rule.get(rule.rule, {})
        return {arg: given[arg] if arg in given else by_name[arg]
                for arg in rule.arguments if arg not in (rule.defaults or {})}

    identifiers = {None: None, "member": member.user.email, "stranger": stranger.user.email,
                   "kasir": make_user("kasir").email, "pengurus": make_user("pengurus").email,
                   "pengawas": make_user("pengawas").email}
    return {"identifiers": identifiers, "url_args": url_args}


@pytest.mark.parametrize("role", ROLES, ids=[str(r) for r in ROLES])
def test_every_route_answers_each_role_as_declared(app, client, world, role):
    problems = walk(app, client, role, world["identifiers"][role], world["url_args"])
    assert not problems, "\n".join(problems)


def test_every_view_declares_who_may_use_it(app):
    assert undeclared_endpoints(app) == []


# POSTs that change none of the cooperative's data: the download of the full export is a POST only so that it
# can write "downloaded the cooperative's data" in the audit log (and carry CSRF); pengawas may download.
READS_WITH_AN_AUDIT_EVENT = {"dataexport.download"}

PRIVATE_AREAS = ("/admin", "/gerai", "/kelola", "/penyelesaian", "/pernyataan", "/saya", "/akun", "/dasbor")


def test_the_declarations_keep_the_rules_of_the_cooperative(app):
    """What the walk cannot see (it checks behaviour against the declarations): pengawas, the
    supervisor, changes nothing; staff and member pages are never public."""
    for rule, method, endpoint, access in requests_to_make(app):
        if method != "GET" and endpoint not in READS_WITH_AN_AUDIT_EVENT:
            assert "pengawas" not in access, f"{method} {rule.rule} ({endpoint}) lets pengawas change something"
        if rule.rule.startswith(PRIVATE_AREAS):
            assert PUBLIC not in access, f"{method} {rule.rule} ({endpoint}) is public"


# --- the walker catches what it must --------------------------------------------------------------------

def _app_with_dummy_routes(app_config):
    """A fresh app with one undeclared route and one that refuses a declared role in its body."""
    from flask import abort
    from flask_login import current_user

    from marketplace import create_app

    fresh = create_app(app_config)

    def undeclared():
        return "anyone"

    @roles_required("pengurus", "pengawas")
    def checks_in_its_body():
        if not current_user.has_role("pengurus"):
            abort(403)
        return "ok"

    @public
    def declared_public():
        return "ok"

    fresh.add_url_rule("/coba/tanpa-izin", "dummy_undeclared", undeclared, methods=["GET", "POST"])
    fresh.add_url_rule("/coba/di-dalam", "dummy_in_body", checks_in_its_body)
    fresh.add_url_rule("/coba/umum", "dummy_public", declared_public)
    return fresh


def test_a_route_added_without_a_declaration_is_reported(app_config):
    fresh = _app_with_dummy_routes(app_config)
    assert undeclared_endpoints(fresh) == ["dummy_undeclared"]


def test_the_walk_reports_a_route_answering_outside_its_declaration(app_config, make_user):
    fresh = _app_with_dummy_routes(app_config)
    pengawas = make_user("pengawas").email
    with fresh.app_context():
        problems = walk(fresh, fresh.test_client(), "pengawas", pengawas, lambda rule: {},
                        only=lambda rule: rule.startswith("/coba/"))
    assert problems == ["dummy_undeclared: has no permission declaration",
                        "GET /coba/di-dalam as pengawas: refused (403) although declared ('pengurus', 'pengawas')"]


def test_the_walk_reports_a_refused_post_that_changed_the_database(app_config, make_user, make_member):
    from sqlalchemy import update

    from marketplace import create_app
    from marketplace.models import User

    fresh = create_app(app_config)
    target = make_member().user.id

    def acts_before_it_checks(view):  # the mistake: the work is done before the role is checked
        def wrapped():
            db.session.execute(update(User).where(User.id == target).values(active=False))
            db.session.commit()
            return view()

        wrapped.access = view.access
        return wrapped

    fresh.add_url_rule("/coba/bertindak", "dummy_acts", acts_before_it_checks(roles_required("pengurus")(lambda: "ok")),
                       methods=["POST"])
    with fresh.app_context():
        problems = walk(fresh, fresh.test_client(), "kasir", make_user("kasir").email, lambda rule: {},
                        only=lambda rule: rule.startswith("/coba/"))
    assert problems == ["POST /coba/bertindak as kasir: refused (403) but changed the database"]
