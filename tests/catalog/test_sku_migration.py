"""Migration 0020 makes a member's product codes unique in any letter case, keeping every code it finds."""
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from catalog.models import Product
from catalog.services import ProductData, create_product
from marketplace import create_app
from marketplace.accounts import MemberDetails, create_member_account
from marketplace.extensions import db


def _member(n: int):
    return create_member_account(details=MemberDetails(business_name=f"Dapur Kode {n}", owner_name="Ibu K",
                                                       whatsapp=f"08130000000{n}", bank_name="", bank_account_number="",
                                                       bank_account_holder=""),
                                 email=f"k{n}@kode.id", phone=None, password="rahasia-123", actor=None)


def test_upgrade_keeps_codes_that_differ_only_in_case_apart(app_config, second_database_url, tmp_path):
    second = create_app(dict(app_config, SQLALCHEMY_DATABASE_URI=second_database_url,
                             MEDIA_ROOT=str(tmp_path / "m2"), SEARCH_INDEX_DIR=str(tmp_path / "i2")))
    with second.app_context():
        upgrade()
        one, two = _member(1), _member(2)
        ids = [create_product(m.user, ProductData(name=name, price=10000, unit="pcs")).id
               for m, name in ((one, "Amplang A"), (one, "Amplang B"), (two, "Amplang C"))]
        db.session.remove()
        downgrade(revision="0019")
        # Before 0020 the database compared codes exactly: the same code in two spellings for one member.
        with db.engine.begin() as conn:
            for product_id, sku in zip(ids, ("KRP-1", "krp-1", "KRP-1")):
                conn.execute(text("UPDATE products SET sku = :sku WHERE id = :id"), {"sku": sku, "id": product_id})
        upgrade()
        codes = dict(db.session.execute(select(Product.id, Product.sku).where(Product.id.in_(ids))).all())
        assert codes == {ids[0]: "KRP-1", ids[1]: f"krp-1-{ids[1]}", ids[2]: "KRP-1"}  # the other member's stays
        db.session.remove()
        db.engine.dispose()
