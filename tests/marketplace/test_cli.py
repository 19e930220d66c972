from sqlalchemy import func, select

from catalog.models import Product, ProductPhoto
from catalog.search import SearchFilters, search_products
from marketplace.extensions import db
from marketplace.models import Member, User


def test_create_user_cli_makes_a_pengurus(runner):
    result = runner.invoke(args=["create-user", "--role", "pengurus", "--name", "Ketua", "--email", "ketua@kop.id",
                                 "--password", "rahasia123"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User.role).where(User.email == "ketua@kop.id")) == "pengurus"


def test_create_user_cli_reports_a_bad_password(runner):
    result = runner.invoke(args=["create-user", "--role", "kasir", "--name", "K", "--email", "k@kop.id",
                                 "--password", "123"])
    assert result.exit_code != 0 and "8" in result.output


def test_demo_seed_is_complete_and_idempotent(runner):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "pengurus@demo.koperasi.id" in first.output
    counts = (db.session.scalar(select(func.count(Member.id))), db.session.scalar(select(func.count(Product.id))),
              db.session.scalar(select(func.count(ProductPhoto.id))))
    assert counts[0] >= 12 and counts[1] >= 60 and counts[2] == counts[1]
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0
    assert (db.session.scalar(select(func.count(Member.id))), db.session.scalar(select(func.count(Product.id))),
            db.session.scalar(select(func.count(ProductPhoto.id)))) == counts
    assert search_products("kripik pisang", SearchFilters()).total >= 1
    from consignment.models import ConsignmentLot, Sale, SaleVoid, StockMovement

    gerai = (db.session.scalar(select(func.count(ConsignmentLot.id))), db.session.scalar(select(func.count(Sale.id))),
             db.session.scalar(select(func.count(StockMovement.id))))
    assert gerai[0] == counts[1] and gerai[1] >= 60 and db.session.scalar(select(func.count(SaleVoid.id))) == 1
    from settlement.models import Payout, PayoutPayment, SettlementPeriod

    statuses = sorted(db.session.scalars(select(SettlementPeriod.status)))
    assert statuses == ["closed", "draft"]
    payouts = db.session.scalar(select(func.count(Payout.id)))
    assert payouts >= 10 and 0 < db.session.scalar(select(func.count(PayoutPayment.id))) < payouts
    runner.invoke(args=["seed-demo"])
    assert db.session.scalar(select(func.count(Payout.id))) == payouts
    assert (db.session.scalar(select(func.count(ConsignmentLot.id))), db.session.scalar(select(func.count(Sale.id))),
            db.session.scalar(select(func.count(StockMovement.id)))) == gerai
    checked = runner.invoke(args=["check-ledger"])  # balances and daily sales figures agree with the demo's ledger
    assert checked.exit_code == 0, checked.output


def test_the_demo_has_notifications_and_join_requests_made_the_real_way(runner):
    from joining.models import DECLINED, PENDING, JoinRequest
    from marketplace.accounts import find_user
    from notifications import messages as m
    from notifications.models import FAILED, MANUAL_PENDING, Notification

    assert runner.invoke(args=["seed-demo", "--quiet"]).exit_code == 0
    statuses = list(db.session.scalars(select(JoinRequest.status)))
    assert statuses.count(PENDING) >= 1 and statuses.count(DECLINED) >= 1  # one to decide, one decided
    total = db.session.scalar(select(func.count(Notification.id)))
    member = find_user("keripik.acil@demo.koperasi.id")
    assert db.session.scalar(select(func.count(Notification.id)).where(Notification.user_id == member.id)) > 0
    assert db.session.scalar(select(func.count(Notification.id)).where(Notification.status == MANUAL_PENDING)) > 0
    assert db.session.scalar(select(func.count(Notification.id)).where(Notification.status == FAILED)) == 1
    # Each join decision's message names a request that exists, and was decided by the decision service.
    join_keys = list(db.session.scalars(select(Notification.key).where(Notification.event.in_(
        (m.JOIN_ACCEPTED, m.JOIN_DECLINED)))))
    declined = db.session.scalar(select(JoinRequest).where(JoinRequest.status == DECLINED))
    assert join_keys == [f"join:{declined.id}"]
    assert declined.decided_by_id == find_user("pengurus@demo.koperasi.id").id and declined.decline_reason
    assert runner.invoke(args=["seed-demo", "--quiet"]).exit_code == 0
    assert db.session.scalar(select(func.count(Notification.id))) == total
    assert len(list(db.session.scalars(select(JoinRequest.id)))) == len(statuses)


def test_reindex_cli_indexes_published_products(runner, make_product):
    make_product(name="Amplang Tenggiri")
    make_product(name="Draf", status="draft")
    result = runner.invoke(args=["reindex"])
    assert "Indexed 1 published products" in result.output
    assert runner.invoke(args=["reindex", "--pending"]).exit_code == 0
