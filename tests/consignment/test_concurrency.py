"""Two kasir selling the last unit at the same moment sell it once — on SQLite and on PostgreSQL
(CI runs this file on both; on PostgreSQL it exercises SELECT … FOR UPDATE)."""
import threading

from consignment import services
from consignment.services import LineRequest
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.models import User


def _race(app, user_ids, sell, attempts_per_user=1):
    barrier = threading.Barrier(len(user_ids))
    outcomes = []

    def worker(user_id):
        with app.app_context():  # own app context: own session, own database connection
            user = db.session.get(User, user_id)
            barrier.wait(timeout=30)
            for _ in range(attempts_per_user):
                try:
                    sell(user)
                    outcomes.append("sold")
                except DomainError:
                    outcomes.append("refused")
            db.session.remove()

    threads = [threading.Thread(target=worker, args=(uid,)) for uid in user_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def test_sale_of_last_item_by_two_cashiers_sells_once(app, make_user, make_lot):
    lot = make_lot(quantity=1)
    cashiers = [make_user("kasir").id, make_user("kasir").id]
    outcomes = _race(app, cashiers, lambda user: services.record_counter_sale(user, [LineRequest(lot.id, 1)], "cash"))
    assert sorted(outcomes) == ["refused", "sold"]
    db.session.expire_all()
    assert services.on_hand(lot.id) == 0


def test_many_concurrent_sales_never_oversell(app, make_user, make_lot):
    lot = make_lot(quantity=7)
    cashiers = [make_user("kasir").id for _ in range(4)]
    outcomes = _race(app, cashiers, lambda user: services.record_counter_sale(user, [LineRequest(lot.id, 1)], "qris"),
                     attempts_per_user=3)
    assert outcomes.count("sold") == 7 and outcomes.count("refused") == 5
    db.session.expire_all()
    assert services.on_hand(lot.id) == 0


def test_concurrent_sale_and_return_of_the_last_units_never_go_negative(app, make_user, make_lot):
    lot = make_lot(quantity=2)
    kasir_a, kasir_b = make_user("kasir").id, make_user("kasir").id

    def act(user):
        if user.id == kasir_a:
            services.record_counter_sale(user, [LineRequest(lot.id, 2)], "cash")
        else:
            services.return_to_member(user, lot.member_id, [LineRequest(lot.id, 2)])

    outcomes = _race(app, [kasir_a, kasir_b], act)
    assert sorted(outcomes) == ["refused", "sold"]
    db.session.expire_all()
    assert services.on_hand(lot.id) == 0
