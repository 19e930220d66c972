"""A photo's files are shared by every upload of the same bytes (product photos, board portraits, news
covers, the logo) and are deleted only when nothing refers to their content hash any more."""
import hashlib
from pathlib import Path

import pytest

from catalog import services as catalog
from catalog.services import ProductData, Upload
from marketplace import accounts
from marketplace.photos import photo_reference_columns
from storefront import microsite
from tests.conftest import jpeg_bytes

SHARED = jpeg_bytes(size=(900, 600), seed=77)
SHARED_HASH = hashlib.sha256(SHARED).hexdigest()


def files_of(app, content_hash=SHARED_HASH) -> list[Path]:
    return sorted(Path(app.config["MEDIA_ROOT"]).rglob(f"{content_hash}*"))


def product_with_shared_photo(make_member):
    member = make_member()
    return catalog.create_product(member.user, ProductData(name="Kain Sasirangan", price=250000, unit="lembar"),
                                  [Upload("kain.jpg", SHARED)])


def delete_product_photo(product):
    catalog.delete_photo(product.member.user, product, product.photos[0].id)


def news_cover(pengurus, post_id=None, cover=("sampul.jpg", SHARED)):
    return microsite.save_news(pengurus, microsite.NewsData("Pameran UMKM", "Isi", status="published"), cover,
                               post_id)


def board_photo(pengurus):
    return microsite.save_board_member(pengurus, microsite.BoardMemberData("Siti", "Bendahara"), ("siti.jpg", SHARED))


def logo(pengurus):
    return accounts.save_cooperative(pengurus, accounts.CooperativeDetails(name="Koperasi Maju"), logo=("logo.jpg", SHARED))


def test_every_kind_of_photo_reference_is_known(app):  # the app imports every package's models
    assert {f"{c.table.name}.{c.name}" for c in photo_reference_columns()} == {
        "product_photos.content_hash", "board_members.photo_hash", "news_posts.cover_hash", "cooperatives.logo_hash",
        "join_requests.photo_hash"}


def join_photo(pengurus):
    from joining.services import JoinDetails, submit_join_request

    return submit_join_request(JoinDetails("Dodol Ramlah", "Ramlah", "081377778888", "Kandangan 12", "Dodol ketan"),
                               ("dodol.jpg", SHARED), ip="10.0.0.1", photo_owner=-1)


@pytest.mark.parametrize("other_use", [news_cover, board_photo, logo, join_photo])
def test_deleting_a_product_photo_keeps_the_files_another_photo_with_the_same_bytes_uses(
        app, client, make_member, make_user, other_use):
    pengurus = make_user("pengurus")
    product = product_with_shared_photo(make_member)
    other_use(pengurus)
    assert len(files_of(app)) == 4  # original + three variants, stored once
    delete_product_photo(product)
    assert len(files_of(app)) == 4
    assert client.get(f"/media/photos/{SHARED_HASH[:2]}/{SHARED_HASH}-320.webp").status_code == 200


def test_deleting_one_of_two_products_with_the_same_photo_keeps_the_files(app, make_member):
    first, second = product_with_shared_photo(make_member), product_with_shared_photo(make_member)
    delete_product_photo(first)
    assert len(files_of(app)) == 4
    delete_product_photo(second)
    assert files_of(app) == []


def test_deleting_the_last_product_photo_removes_the_files(app, make_member):
    delete_product_photo(product_with_shared_photo(make_member))
    assert files_of(app) == []


def test_a_replaced_news_cover_is_removed_unless_a_product_still_shows_it(app, make_member, make_user):
    pengurus = make_user("pengurus")
    product = product_with_shared_photo(make_member)
    post = news_cover(pengurus)
    news_cover(pengurus, post.id, ("baru.jpg", jpeg_bytes(seed=78)))
    assert len(files_of(app)) == 4  # the product still shows it
    delete_product_photo(product)
    assert files_of(app) == []


def test_a_replaced_news_cover_nobody_else_uses_is_removed(app, make_user):
    pengurus = make_user("pengurus")
    post = news_cover(pengurus)
    news_cover(pengurus, post.id, ("baru.jpg", jpeg_bytes(seed=79)))
    assert files_of(app) == []


def test_deleting_a_board_member_removes_their_photo_unless_the_logo_uses_it(app, make_user):
    pengurus = make_user("pengurus")
    member = board_photo(pengurus)
    logo(pengurus)
    microsite.delete_board_member(pengurus, member.id)
    assert len(files_of(app)) == 4
    accounts.save_cooperative(pengurus, accounts.CooperativeDetails(name="Koperasi Maju"), remove_logo=True)
    assert files_of(app) == []
