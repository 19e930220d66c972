import pytest
from sqlalchemy import func, select

from catalog import services
from catalog.models import MAX_PHOTOS, Product, ProductPhoto
from catalog.services import ProductData, Upload
from marketplace.errors import DomainError, PermissionDenied
from marketplace.extensions import db
from marketplace.models import AuditEvent
from tests.conftest import jpeg_bytes


def _data(**kw):
    base = dict(name="Keripik Pisang Kepok 250 g", price=15000, unit="bungkus 250 g", status="published")
    base.update(kw)
    return ProductData(**base)


def test_member_creates_own_product_with_photos_in_order(make_member):
    member = make_member()
    product = services.create_product(member.user, _data(), [Upload("a.jpg", jpeg_bytes(seed=1)),
                                                             Upload("b.jpg", jpeg_bytes(seed=2))])
    assert product.member_id == member.id
    assert product.slug == "keripik-pisang-kepok-250-g"
    assert [p.position for p in product.photos] == [0, 1]
    assert product.published_at is not None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.object_type == "Product"))
    assert (event.action, event.object_id, event.actor_id) == ("product.create", product.id, member.user.id)


def test_price_is_stored_as_integer_rupiah_and_floats_are_refused(make_member):
    member = make_member()
    with pytest.raises(DomainError) as exc:
        services.create_product(member.user, _data(price=15000.5))
    assert exc.value.field == "price"
    product = services.create_product(member.user, _data(price=62500))
    assert db.session.scalar(select(Product.price).where(Product.id == product.id)) == 62500


def test_rejected_photo_saves_nothing(make_member, images):
    member = make_member()
    with pytest.raises(DomainError) as exc:
        services.create_product(member.user, _data(), [Upload("ok.jpg", jpeg_bytes()),
                                                       Upload("palsu.jpg", images.text_as_jpg())])
    assert exc.value.field == "photos"
    assert "palsu.jpg" in exc.value.message
    assert db.session.scalar(select(func.count(Product.id))) == 0


def test_member_cannot_edit_another_members_product(make_member, make_product):
    product = make_product()
    other = make_member()
    with pytest.raises(PermissionDenied):
        services.update_product(other.user, product, _data(name="Dibajak"))
    db.session.refresh(product)
    assert product.name != "Dibajak"


def test_pengurus_can_edit_any_product_and_create_for_a_member(make_user, make_member, make_product):
    pengurus = make_user("pengurus")
    product = make_product()
    services.update_product(pengurus, product, _data(name="Nama Baru", price=20000))
    assert product.name == "Nama Baru" and product.price == 20000
    member = make_member()
    created = services.create_product(pengurus, _data(name="Titipan Pengurus"), member_id=member.id)
    assert created.member_id == member.id


def test_kasir_and_pengawas_cannot_create_products(make_user):
    for role in ("kasir", "pengawas"):
        with pytest.raises(PermissionDenied):
            services.create_product(make_user(role), _data())


def test_at_most_eight_photos(make_product):
    product = make_product(photos=MAX_PHOTOS)
    with pytest.raises(DomainError, match=str(MAX_PHOTOS)):
        services.update_product(product.member.user, product, _data(), [Upload("9.jpg", jpeg_bytes(seed=99))])
    assert len(product.photos) == MAX_PHOTOS


def test_photos_can_be_reordered_and_removed(make_product, app):
    product = make_product(photos=3)
    first, second, third = [p.id for p in product.photos]
    services.move_photo(product.member.user, product, third, -1)
    assert [p.id for p in sorted(product.photos, key=lambda p: p.position)] == [first, third, second]
    services.delete_photo(product.member.user, product, first)
    db.session.expire_all()
    assert [(p.id, p.position) for p in db.session.get(Product, product.id).photos] == [(third, 0), (second, 1)]


def test_removing_the_last_use_of_a_photo_deletes_its_files(make_product, app):
    from pathlib import Path

    product = make_product(photos=1)
    photo = product.photos[0]
    files = list(Path(app.config["MEDIA_ROOT"]).rglob(f"{photo.content_hash}*"))
    assert len(files) == 4  # original + three variants
    services.delete_photo(product.member.user, product, photo.id)
    assert not list(Path(app.config["MEDIA_ROOT"]).rglob(f"{photo.content_hash}*"))
    assert db.session.scalar(select(func.count(ProductPhoto.id))) == 0


def test_category_names_are_unique_ignoring_case(make_category):
    make_category("Makanan Ringan")
    with pytest.raises(DomainError, match="sudah ada"):
        make_category("makanan ringan")
