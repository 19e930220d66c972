"""The spreadsheet import's pages: upload, preview, confirm, templates; who may import for whom."""
from __future__ import annotations

import io
import re
import zipfile

import openpyxl
from sqlalchemy import func, select

from catalog.models import Product
from marketplace.extensions import db
from tests.conftest import jpeg_bytes

SHEET = ("nama,harga,satuan,status,foto\n"
         "Keripik Pisang Kepok,15rb,bungkus,terbit,keripik.jpg\n"
         "Dodol Kandangan,\"15,5x\",pcs,draft,\n")


def photos_zip() -> io.BytesIO:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("keripik.jpg", jpeg_bytes(seed=9))
    out.seek(0)
    return out


def upload(client, sheet: str = SHEET, **extra):
    data = {"sheet": (io.BytesIO(sheet.encode()), "produk.csv"), "photos": (photos_zip(), "foto.zip"), **extra}
    return client.post("/kelola/impor", data=data, content_type="multipart/form-data")


def confirm_key(page: str) -> str:
    return re.search(r'name="once" type="hidden" value="([^"]+)"', page).group(1)


def product_names(member_id=None) -> list[str]:
    stmt = select(Product.name).order_by(Product.name)
    return list(db.session.scalars(stmt if member_id is None else stmt.where(Product.member_id == member_id)))


def test_a_member_uploads_sees_the_bad_row_then_saves_the_good_ones(client, login_as):
    member = login_as("member")
    response = upload(client)
    assert response.status_code == 302
    preview_url = response.headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    assert "Baris 3, kolom harga: “15,5x” bukan harga." in page
    assert "Baru" in page and "Tidak disimpan" in page
    assert product_names() == []  # nothing saved by the upload or the preview
    response = client.post(preview_url, data={"once": confirm_key(page)})
    assert response.status_code == 302 and "/kelola/produk" in response.headers["Location"]
    assert product_names(member.id) == ["Keripik Pisang Kepok"]
    product = db.session.scalar(select(Product).where(Product.member_id == member.id))
    assert len(product.photos) == 1 and product.price == 15000
    assert client.get(preview_url).status_code == 302  # used: the files are gone


def test_a_member_imports_into_her_own_business_whatever_member_she_names(client, login_as, make_member):
    other = make_member()
    member = login_as("member")
    response = upload(client, member_id=str(other.id))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    client.post(response.headers["Location"], data={"once": confirm_key(page)})
    assert product_names(other.id) == [] and product_names(member.id) == ["Keripik Pisang Kepok"]


def test_pengurus_chooses_the_member_the_products_belong_to(client, login_as, make_member):
    member = make_member()
    login_as("pengurus")
    response = upload(client)
    assert response.status_code == 422 and "Pilih UMKM pemilik produk." in response.get_data(as_text=True)
    response = upload(client, member_id=str(member.id))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert member.business_name in page
    client.post(response.headers["Location"], data={"once": confirm_key(page)})
    assert product_names(member.id) == ["Keripik Pisang Kepok"]


def test_nobody_else_sees_or_saves_an_import(app, client, login_as, make_member, make_user):
    from tests.conftest import AuthActions

    member = login_as("member")
    preview_url = upload(client).headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    for other in (make_member().user, make_user("pengurus")):
        stranger = app.test_client()
        AuthActions(stranger).login(other.email)
        assert stranger.get(preview_url).headers["Location"].endswith("/kelola/impor")
        stranger.post(preview_url, data={"once": confirm_key(page)})
    assert product_names() == []
    kasir = app.test_client()
    AuthActions(kasir).login(make_user("kasir").email)
    assert kasir.get("/kelola/impor").status_code == 403
    assert member is not None


def test_a_hostile_zip_is_refused_on_the_upload_page(client, login_as):
    login_as("member")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("../../foto.jpg", jpeg_bytes())
    out.seek(0)
    response = client.post("/kelola/impor", content_type="multipart/form-data",
                           data={"sheet": (io.BytesIO(SHEET.encode()), "produk.csv"), "photos": (out, "foto.zip")})
    assert response.status_code == 422
    assert "foto.zip ditolak: nama “../../foto.jpg” menunjuk keluar dari folder arsip." in response.get_data(as_text=True)


def _preview(client):
    response = upload(client, sheet="nama,harga\nKeripik,15000\nDodol,20000\n")
    url = response.headers["Location"]
    return url, confirm_key(client.get(url).get_data(as_text=True))


def test_confirm_sent_twice_saves_once(client, login_as, send_twice):
    login_as("member")
    url, key = _preview(client)
    answers = send_twice(client, url, {"once": key})
    assert [status for status, _ in answers] == [302, 302]
    assert product_names() == ["Dodol", "Keripik"]


def test_confirm_sent_twice_at_once_saves_once(client, login_as, send_twice):
    login_as("member")
    url, key = _preview(client)
    answers = send_twice(client, url, {"once": key}, at_once_=True)
    assert [status for status, _ in answers] == [302, 302]
    assert db.session.scalar(select(func.count(Product.id))) == 2


def test_the_templates_download_with_their_columns(client, login_as):
    login_as("member")
    csv_text = client.get("/kelola/impor/templat.csv").get_data(as_text=True)
    assert csv_text.splitlines()[0] == "nama,harga,satuan,kategori,deskripsi,status,foto,sku"
    response = client.get("/kelola/impor/templat.xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
    assert workbook.sheetnames == ["Produk", "Petunjuk"]
    assert [c.value for c in next(workbook["Produk"].iter_rows(max_row=1))][:2] == ["nama", "harga"]


def test_the_preview_checks_the_photos_batch_by_batch_before_it_can_save(app, client, login_as):
    app.config["IMPORT_BATCH_SECONDS"] = 0
    login_as("member")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for i in range(2):
            archive.writestr(f"f{i}.jpg", jpeg_bytes(seed=i))
    out.seek(0)
    response = client.post("/kelola/impor", content_type="multipart/form-data", data={
        "sheet": (io.BytesIO(b"nama,harga,foto\nA,15000,f0.jpg\nB,16000,f1.jpg\n"), "produk.csv"),
        "photos": (out, "foto.zip")})
    preview_url = response.headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    assert "Memeriksa foto: 1 dari 2 selesai." in page and "Simpan 2 produk" not in page
    assert client.post(preview_url + "/foto").headers["Location"] == preview_url
    page = client.get(preview_url).get_data(as_text=True)
    assert "Memeriksa foto" not in page and "Simpan 2 produk" in page
