"""Board members and gerai staff are often UMKM too: a staff account may have a business of its own."""
import pytest
from sqlalchemy import select

from catalog.models import Product
from catalog.services import ProductData, create_product
from marketplace import accounts
from marketplace.errors import DomainError, PermissionDenied
from marketplace.extensions import db

PRODUCT = {"name": "Amplang Ikan Pipih", "price": "20.000", "unit": "bungkus", "category_id": "",
           "description": "", "status": "published"}


def _details(name: str) -> accounts.MemberDetails:
    return accounts.MemberDetails(business_name=name, owner_name="Pemilik", whatsapp="0813 5555 0000")


def _with_business(make_user, role: str, business: str):
    user = make_user(role)
    accounts.add_business_profile(make_user("pengurus"), user, _details(business))
    return user


def test_only_pengurus_add_a_business_profile_and_only_once(make_user, make_member):
    kasir = make_user("kasir")
    for role in ("kasir", "pengawas"):
        with pytest.raises(PermissionDenied):
            accounts.add_business_profile(make_user(role), kasir, _details("Wadai Bu Kasir"))
    member = accounts.add_business_profile(make_user("pengurus"), kasir, _details("Wadai Bu Kasir"))
    assert kasir.member == member and kasir.role == "kasir"
    with pytest.raises(DomainError):
        accounts.add_business_profile(make_user("pengurus"), kasir, _details("Lagi"))
    with pytest.raises(DomainError):
        accounts.add_business_profile(make_user("pengurus"), make_member().user, _details("Lagi"))


def test_pengurus_with_a_business_keeps_the_board_view_and_also_sees_their_own(client, auth, make_user, make_member,
                                                                           make_product):
    ketua = _with_business(make_user, "pengurus", "Kain Sasirangan Bu Ketua")
    other = make_member(business_name="Keripik Acil")
    make_product(other, name="Keripik Tempe")
    create_product(ketua, ProductData(name="Sasirangan Gigi Haruan", price=350000, unit="lembar", status="published"),
                   member_id=ketua.member.id)
    auth.login(ketua.email)

    dashboard = client.get("/dasbor").get_data(as_text=True)
    assert "Saldo dan laporan saya" in dashboard and "Penyelesaian" in dashboard  # member's and board's tiles
    everything = client.get("/kelola/produk").get_data(as_text=True)
    assert "Keripik Tempe" in everything and "Sasirangan Gigi Haruan" in everything
    own = client.get("/kelola/produk?saya=1").get_data(as_text=True)
    assert "Sasirangan Gigi Haruan" in own and "Keripik Tempe" not in own
    assert client.get("/saya/saldo").status_code == 200
    assert client.get("/gerai/saya").status_code == 200
    # as pengurus they still choose the business a new product belongs to: their own is one of them
    response = client.post("/kelola/produk/baru", data={**PRODUCT, "member_id": str(ketua.member.id)})
    assert response.status_code == 302
    assert db.session.scalar(select(Product.member_id).where(Product.name == "Amplang Ikan Pipih")) == ketua.member.id


def test_kasir_with_a_business_manages_only_their_own_products(client, auth, make_user, make_member, make_product):
    kasir = _with_business(make_user, "kasir", "Wadai Bu Rina")
    theirs = make_product(make_member(business_name="Keripik Acil"), name="Keripik Tempe")
    auth.login(kasir.email)
    listing = client.get("/kelola/produk").get_data(as_text=True)
    assert "Produk saya" in listing and "Keripik Tempe" not in listing
    assert client.post("/kelola/produk/baru", data=PRODUCT).status_code == 302
    assert db.session.scalar(select(Product.member_id).where(Product.name == "Amplang Ikan Pipih")) == kasir.member.id
    assert client.get(f"/kelola/produk/{theirs.id}/ubah").status_code == 403
    assert client.get("/gerai/kasir").status_code == 200  # and is still the gerai's kasir


def test_pengawas_with_a_business_lists_their_products_but_still_changes_nothing_else(client, auth, make_user):
    pengawas = _with_business(make_user, "pengawas", "Jamu Bu Pengawas")
    auth.login(pengawas.email)
    assert client.post("/kelola/produk/baru", data=PRODUCT).status_code == 302
    assert client.post("/admin/koperasi", data={"name": "Diambil alih", "default_commission": "50"}).status_code == 403
    assert client.get("/admin/anggota/baru").status_code == 403
    assert client.post("/penyelesaian", data={"cutoff": "2026-11-30"}).status_code == 403


def test_pengurus_gives_a_kasir_a_business_from_the_staff_list(client, auth, make_user):
    kasir = make_user("kasir", name="Rina")
    auth.login(make_user("pengurus").email)
    staff = client.get("/admin/pengguna").get_data(as_text=True)
    assert f"/admin/pengguna/{kasir.id}/usaha" in staff
    form = client.get(f"/admin/pengguna/{kasir.id}/usaha").get_data(as_text=True)
    assert 'value="Rina"' in form  # the owner's name is filled in
    response = client.post(f"/admin/pengguna/{kasir.id}/usaha", data={
        "business_name": "Wadai Bu Rina", "owner_name": "Rina", "whatsapp": "0813 5555 1212"})
    assert response.status_code == 302
    db.session.refresh(kasir)
    assert kasir.member.business_name == "Wadai Bu Rina" and kasir.role == "kasir"
    assert "Wadai Bu Rina" in client.get("/admin/pengguna").get_data(as_text=True)
