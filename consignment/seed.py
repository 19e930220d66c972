"""Demo gerai history: agreements, lots, a month of counter sales, a void, returns and an adjustment.

Runs once (when no lot exists yet). Times are moved into the past *only here*, to give the demo a
history; the application itself never edits ledger rows.
"""
from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import func, select, update

from catalog.models import Category, Product
from marketplace.accounts import find_user
from marketplace.extensions import db
from marketplace.models import Member
from marketplace.timeutil import utcnow

from . import daily, services
from .models import ConsignmentLot, Sale, SaleVoid, StockMovement

FOOD = {"Makanan Ringan", "Kue & Roti", "Minuman Herbal", "Sambal & Bumbu"}


def _backdate_lot(lot: ConsignmentLot, when) -> None:
    db.session.execute(update(ConsignmentLot).where(ConsignmentLot.id == lot.id).values(received_at=when))
    db.session.execute(update(StockMovement).where(StockMovement.lot_id == lot.id).values(created_at=when))


def _backdate_sale(sale: Sale, when) -> None:
    db.session.execute(update(Sale).where(Sale.id == sale.id).values(created_at=when))
    line_ids = [line.id for line in sale.lines]
    db.session.execute(update(StockMovement).where(StockMovement.sale_line_id.in_(line_ids)).values(created_at=when))


def seed_gerai() -> int:
    """Create the demo gerai history if there is none. Returns the number of sales created."""
    if db.session.scalar(select(func.count(ConsignmentLot.id))):
        return 0
    rng = random.Random(42)
    pengurus = find_user("pengurus@demo.koperasi.id")
    kasir = find_user("kasir@demo.koperasi.id")
    now = utcnow()
    sasirangan = db.session.scalar(select(Category).where(Category.name == "Kain Sasirangan"))
    for member in db.session.scalars(select(Member).order_by(Member.id)):
        services.create_agreement(pengurus, member_id=member.id, commission_bp=1500, valid_from=date(2024, 1, 1),
                                  note="Perjanjian titip jual standar")
        if sasirangan is not None:
            services.create_agreement(pengurus, member_id=member.id, commission_bp=1000, valid_from=date(2024, 1, 1),
                                      category_id=sasirangan.id, note="Kain: komisi khusus 10%")
    lots = []
    products = db.session.scalars(select(Product).order_by(Product.id)).all()
    for product in products:
        category = product.category.name if product.category else ""
        quantity = rng.choice((10, 12, 20, 24, 30, 40)) if category in FOOD else rng.choice((3, 5, 6, 10))
        received_days_ago = rng.randint(20, 50)
        expiry = (now + timedelta(days=rng.randint(2, 90))).date() if category in FOOD else None
        lot = services.receive_lot(kasir, product_id=product.id, quantity=quantity, expiry_date=expiry)
        _backdate_lot(lot, now - timedelta(days=received_days_ago, hours=rng.randint(0, 8)))
        lots.append(lot)
    db.session.commit()
    sales = 0
    for day in range(30, 0, -1):
        for _i in range(rng.randint(3, 8)):
            picks = rng.sample(lots, k=rng.randint(1, 3))
            stock = services.on_hand_by_lot(lot.id for lot in picks)
            lines = [services.LineRequest(lot.id, min(stock[lot.id], rng.randint(1, 3))) for lot in picks
                     if stock[lot.id] > 0]
            if not lines:
                continue
            method = rng.choice(("cash", "cash", "qris", "transfer"))
            sale = services.record_counter_sale(kasir, lines, method)
            _backdate_sale(sale, now - timedelta(days=day, hours=rng.randint(0, 9), minutes=rng.randint(0, 59)))
            db.session.commit()
            sales += 1
    last = db.session.scalar(select(Sale).order_by(Sale.id.desc()).limit(1))
    if last is not None and not db.session.scalar(select(SaleVoid.id)):
        services.void_sale(pengurus, last.id, "Pembeli membatalkan, barang dikembalikan ke rak")
    for lot in lots[:2]:
        left = services.on_hand(lot.id)
        if left > 1:
            services.return_to_member(kasir, lot.member_id, [services.LineRequest(lot.id, left // 2)],
                                      "Ditarik pemilik untuk pesanan luar")
    food_lot = next((lot for lot in lots if lot.expiry_date and services.on_hand(lot.id) > 0), None)
    if food_lot is not None:
        services.adjust_stock(kasir, food_lot.id, -1, "damaged", "Kemasan sobek di rak")
    daily.rebuild()  # the sales were moved into the past behind the services: their days from the lines
    return sales
