"""Demo settlements: one closed period (most statements paid) and one open draft. Runs once."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from marketplace.accounts import find_user
from marketplace.extensions import db
from marketplace.timeutil import local_today

from . import services
from .models import SettlementPeriod


def seed_settlement() -> int:
    """Returns the number of statements frozen."""
    if db.session.scalar(select(func.count(SettlementPeriod.id))):
        return 0
    pengurus = find_user("pengurus@demo.koperasi.id")
    today = local_today()
    period = services.open_period(pengurus, today - timedelta(days=15), "Penyelesaian paruh pertama (demo)")
    period = services.close_period(pengurus, period.id)
    payable = [p for p in period.payouts if p.payable > 0]
    for i, payout in enumerate(payable[: max(len(payable) - 2, 0)]):
        if i % 4 == 3:
            services.mark_paid(pengurus, payout.id, "cash", acknowledged_by=payout.member.owner_name)
        else:
            services.mark_paid(pengurus, payout.id, "bank_transfer", f"TRF-BANKKALSEL-{1000 + payout.id}")
    services.open_period(pengurus, today - timedelta(days=1), "Penyelesaian bulan berjalan (demo, belum ditutup)")
    return len(period.payouts)
