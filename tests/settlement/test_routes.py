import re

import pytest
from sqlalchemy import func, select

from consignment import services as gerai
from consignment.services import LineRequest
from marketplace.extensions import db
from marketplace.once import new_key
from marketplace.timeutil import local_today
from settlement import services
from settlement.models import Payout

@pytest.fixture
def settled(make_user, make_lot):
    """A closed period with one statement, and an open draft."""
    kasir, pengurus = make_user("kasir"), make_user("pengurus")
    lot = make_lot(quantity=10)
    gerai.record_counter_sale(kasir, [LineRequest(lot.id, 2)], "cash")
    period = services.close_period(pengurus, services.open_period(pengurus, local_today()).id)
    gerai.record_counter_sale(kasir, [LineRequest(lot.id, 1)], "cash")
    draft = services.open_period(pengurus, local_today())
    return {"period": period, "payout": period.payouts[0], "draft": draft, "member": lot.member}


def test_member_reads_own_statement_balance_and_pdf(client, login_as, settled):
    login_as("member", member=settled["member"])
    page = client.get(f"/pernyataan/{settled['payout'].id}").get_data(as_text=True)
    assert "Rp30.000" in page and "Rp25.500" in page and "Belum dibayar" in page
    balance = client.get("/saya/saldo").get_data(as_text=True)
    assert "Rp12.750" in balance and f"/pernyataan/{settled['payout'].id}" in balance
    pdf = client.get(f"/pernyataan/{settled['payout'].id}.pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")


def test_pengurus_closes_from_the_page_and_a_second_click_changes_nothing(client, login_as, settled):
    login_as("pengurus")
    draft = settled["draft"].id
    assert "Rp12.750" in client.get(f"/penyelesaian/{draft}").get_data(as_text=True)
    first = client.post(f"/penyelesaian/{draft}/tutup", data={"once": new_key()})
    second = client.post(f"/penyelesaian/{draft}/tutup", data={"once": new_key()})
    assert first.status_code == second.status_code == 302
    assert db.session.scalar(select(func.count(Payout.id)).where(Payout.period_id == draft)) == 1


def test_pengurus_marks_paid_with_reference_and_whatsapp_summary(client, login_as, settled):
    login_as("pengurus")
    payout = settled["payout"]
    page = client.get(f"/pernyataan/{payout.id}").get_data(as_text=True)
    assert f"https://wa.me/{settled['member'].whatsapp}?text=" in page and "Rp25.500" in page
    missing = client.post(f"/pernyataan/{payout.id}", data={"method": "bank_transfer", "reference": "",
                                                                "once": new_key()})
    assert "Tulis referensi transfer" in missing.get_data(as_text=True)
    client.post(f"/pernyataan/{payout.id}", data={"method": "bank_transfer", "reference": "BRI-7781",
                                                  "once": new_key()})
    assert "BRI-7781" in client.get(f"/pernyataan/{payout.id}").get_data(as_text=True)
    csv_text = client.get(f"/penyelesaian/{settled['period'].id}/pembayaran.csv").get_data(as_text=True)
    assert "BRI-7781" in csv_text and ",25500," in csv_text


def test_audit_log_filters_by_action(client, login_as, settled):
    login_as("pengawas")
    page = client.get("/admin/audit?aksi=penyelesaian").get_data(as_text=True)
    assert "menutup periode penyelesaian" in page and "menjual" not in page


def test_transparency_page_shows_totals_and_no_personal_data(client, settled, make_user):
    services.mark_paid(make_user("pengurus"), settled["payout"].id, "bank_transfer", "TRF-1")
    page = client.get("/transparansi").get_data(as_text=True)
    member = settled["member"]
    assert "Rp25.500" in page and "<svg" in page
    for private in (member.business_name, member.owner_name, member.whatsapp, member.bank_account_number, "TRF-1"):
        assert private not in page


def test_member_sees_what_they_receive_per_unit_while_editing(client, login_as, make_product):
    member = login_as("member")
    product = make_product(member, price=20000)
    page = client.get(f"/kelola/produk/{product.id}/ubah").get_data(as_text=True)
    assert "Rp17.000" in page and "15%" in page


def test_settlement_list_shows_the_open_drafts_live_figures_and_no_open_form(client, login_as, settled):
    login_as("pengurus")
    page = client.get("/penyelesaian").get_data(as_text=True)
    draft_row = page.split(f'/penyelesaian/{settled["draft"].id}"', 1)[1].split("</tr>", 1)[0]
    assert "Rp12.750" in draft_row and ">1 <" in draft_row  # one statement of Rp12.750, not "0, Rp0"
    assert 'name="cutoff_date"' not in page
    assert f'href="/penyelesaian/{settled["draft"].id}"' in page.split("</table>", 1)[1]


def test_open_form_offers_a_cutoff_never_before_the_last_closed_one(client, login_as, make_user):
    pengurus = login_as("pengurus")
    today = local_today()
    end_of_last_month = today.replace(day=1).toordinal() - 1
    page = client.get("/penyelesaian").get_data(as_text=True)
    assert f'value="{today.fromordinal(end_of_last_month).isoformat()}"' in page
    services.close_period(pengurus, services.open_period(pengurus, today).id)
    page = client.get("/penyelesaian").get_data(as_text=True)
    assert re.search(r'name="cutoff_date"[^>]*value="' + today.isoformat(), page)
