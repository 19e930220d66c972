"""Migration 0010 fills every lot's balance from the ledger it finds (an upgrade of a database in use)."""
from flask_migrate import downgrade, upgrade

from catalog.services import ProductData, create_product
from consignment import services
from consignment.services import LineRequest
from marketplace import create_app
from marketplace.accounts import MemberDetails, create_member_account, create_user
from marketplace.extensions import db


def test_upgrade_fills_the_balances_of_existing_lots_from_their_movements(app_config, second_database_url, tmp_path):
    second = create_app(dict(app_config, SQLALCHEMY_DATABASE_URI=second_database_url,
                             MEDIA_ROOT=str(tmp_path / "m2"), SEARCH_INDEX_DIR=str(tmp_path / "i2")))
    with second.app_context():
        upgrade()
        kasir = create_user(name="Kasir", email="kasir@migrasi.id", password="rahasia-123", role="kasir")
        member = create_member_account(details=MemberDetails(business_name="Dapur Migrasi", owner_name="Ibu M",
                                                             whatsapp="081300000001", bank_name="", bank_account_number="",
                                                             bank_account_holder=""),
                                       email="m@migrasi.id", phone=None, password="rahasia-123", actor=None)
        product = create_product(member.user, ProductData(name="Amplang", price=10000, unit="pcs", description="",
                                                          category_id=None, status="published"), [])
        lots = [services.receive_lot(kasir, product_id=product.id, quantity=q) for q in (5, 8)]
        services.record_counter_sale(kasir, [LineRequest(lots[0].id, 2), LineRequest(lots[1].id, 8)], "cash")
        ids = [lot.id for lot in lots]
        db.session.remove()  # end the session's read transaction: the downgrade takes its table locks
        downgrade(revision="0009")
        upgrade()
        db.session.expire_all()
        assert services.on_hand_by_lot(ids) == {ids[0]: 3, ids[1]: 0}
        assert services.ledger_mismatches() == []
        db.session.remove()
        db.engine.dispose()
