"""The cooperative's time zone (WIB/WITA/WIT) is a setting used for times shown, receipts, report days and
settlement cut-offs."""
from datetime import date, datetime
from unittest.mock import patch

import pytest
from sqlalchemy import select

from consignment import reports
from consignment import services as gerai
from consignment.services import LineRequest
from marketplace.extensions import db
from marketplace.models import Cooperative
from settlement import services as settlement


@pytest.fixture
def in_zone(app):
    def set_zone(name):
        coop = db.session.scalar(select(Cooperative)) or Cooperative(name="Koperasi Uji")
        coop.time_zone = name
        db.session.add(coop)
        db.session.commit()

    return set_zone


def _sale_at(make_user, make_lot, moment):
    lot = make_lot(quantity=5)
    with patch.object(gerai, "utcnow", lambda: moment):  # the sale happens at that moment
        return gerai.record_counter_sale(make_user("kasir"), [LineRequest(lot.id, 1)], "cash")


def test_a_sale_at_2330_utc_counts_on_the_next_local_day_in_wita(app, in_zone, make_user, make_lot):
    in_zone("Asia/Makassar")
    _sale_at(make_user, make_lot, datetime(2026, 11, 24, 23, 30))  # 07:30 WITA on 25 November
    with app.test_request_context("/"):
        assert [r.key for r in reports.sales_summary(date(2026, 11, 24), date(2026, 11, 25))] == ["2026-11-25"]


@pytest.mark.parametrize("zone, day", [("Asia/Makassar", "2026-11-25"), ("Asia/Jakarta", "2026-11-24")])
def test_the_report_day_follows_the_cooperatives_zone(app, in_zone, make_user, make_lot, zone, day):
    in_zone(zone)
    _sale_at(make_user, make_lot, datetime(2026, 11, 24, 16, 30))  # 00:30 WITA on the 25th, 23:30 WIB on the 24th
    with app.test_request_context("/"):
        assert [r.key for r in reports.sales_summary(date(2026, 11, 24), date(2026, 11, 25))] == [day]


@pytest.mark.parametrize("zone, included", [("Asia/Makassar", False), ("Asia/Jakarta", True)])
def test_the_settlement_cut_off_ends_at_local_midnight(app, in_zone, make_user, make_lot, zone, included):
    in_zone(zone)
    _sale_at(make_user, make_lot, datetime(2026, 11, 24, 16, 30))
    with app.test_request_context("/"):
        drafts = settlement.compute_statements(date(2026, 11, 24))
    assert bool(drafts and sum(d.gross for d in drafts)) == included


def test_receipts_show_local_time_and_say_wita(client, in_zone, login_as, make_user, make_lot):
    in_zone("Asia/Makassar")
    sale = _sale_at(make_user, make_lot, datetime(2026, 11, 24, 16, 30))
    login_as("kasir")
    page = client.get(f"/gerai/penjualan/{sale.id}/struk").get_data(as_text=True)
    assert "WITA" in page and "WIB" not in page and "00.30" in page


def test_the_board_sets_the_time_zone_in_the_cooperative_settings(client, login_as, app):
    login_as("pengurus")
    assert '<option selected value="Asia/Jakarta">' in client.get("/admin/koperasi").get_data(as_text=True)  # the default
    response = client.post("/admin/koperasi", data={"name": "Koperasi Uji", "default_commission": "15",
                                                    "time_zone": "Asia/Jayapura"})
    assert response.status_code == 302
    assert db.session.scalar(select(Cooperative.time_zone)) == "Asia/Jayapura"
    refused = client.post("/admin/koperasi", data={"name": "Koperasi Uji", "default_commission": "15",
                                                   "time_zone": "Europe/Paris"}).get_data(as_text=True)
    assert "Pilih WIB, WITA, atau WIT." in refused
    assert db.session.scalar(select(Cooperative.time_zone)) == "Asia/Jayapura"
