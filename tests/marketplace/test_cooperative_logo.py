"""The cooperative's logo: uploaded by pengurus through the photo pipeline, shown on every page."""
import io
import re

import pytest
from PIL import Image

from marketplace.photos import PhotoRejected, public_dir
from marketplace import accounts
from marketplace.cooperative import current_cooperative
from marketplace.extensions import db

FIELDS = {"name": "Koperasi Produsen Maju Bersama", "default_commission": "15", "whatsapp": "0811 2222 3333"}


def _details(**overrides) -> accounts.CooperativeDetails:
    return accounts.CooperativeDetails(**{"name": "Koperasi Produsen Maju Bersama", "default_commission_bp": 1500,
                                          **overrides})


def test_a_logo_is_stored_as_webp_variants_and_can_be_removed(make_user, images, app):
    pengurus = make_user("pengurus")
    coop = accounts.save_cooperative(pengurus, _details(), logo=("logo.png", images.png(size=(600, 600), mode="RGB")))
    assert coop.logo is not None and (coop.logo_width, coop.logo_height) == (600, 600)
    variant = public_dir(app.config["MEDIA_ROOT"]) / coop.logo.variant_name(320)
    assert Image.open(variant).format == "WEBP"
    accounts.save_cooperative(pengurus, _details())  # saving without a file keeps the logo
    assert current_cooperative().logo is not None
    accounts.save_cooperative(pengurus, _details(), remove_logo=True)
    assert current_cooperative().logo is None


def test_a_rejected_logo_changes_nothing_and_says_why(make_user, images):
    pengurus = make_user("pengurus")
    accounts.save_cooperative(pengurus, _details(), logo=("logo.png", images.png(size=(600, 600), mode="RGB")))
    before = current_cooperative().logo_hash
    with pytest.raises(PhotoRejected) as err:
        accounts.save_cooperative(pengurus, _details(name="Nama Baru"), logo=("logo.jpg", images.text_as_jpg()))
    assert err.value.field == "logo"
    db.session.expire_all()
    assert current_cooperative().logo_hash == before and current_cooperative().name != "Nama Baru"


def test_an_empty_logo_file_is_refused_by_name(make_user):
    with pytest.raises(PhotoRejected, match="logo.png: file kosong") as err:
        accounts.save_cooperative(make_user("pengurus"), _details(), logo=("logo.png", b""))
    assert err.value.field == "logo"
    assert current_cooperative() is None


def test_pengurus_uploads_a_logo_that_every_page_then_shows(client, auth, make_user, images):
    auth.login(make_user("pengurus").email)
    response = client.post("/admin/koperasi", data={**FIELDS, "logo": (io.BytesIO(images.text_as_jpg()), "logo.jpg")},
                           content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'value="Koperasi Produsen Maju Bersama"' in page  # form kept
    assert re.search(r'class="error" id="logo-error">[^<]*logo\.jpg', page)  # the message names the file

    response = client.post("/admin/koperasi", data={**FIELDS, "logo": (io.BytesIO(images.png(size=(512, 512), mode="RGB")),
                                                                      "logo.png")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    logo = current_cooperative().logo
    for path in ("/", "/produk", "/tentang"):
        header = client.get(path).get_data(as_text=True).split("</header>")[0]
        assert logo.variant_name(320) in header, path
    home = client.get("/").get_data(as_text=True)
    assert f'property="og:image" content="http://localhost/media/photos/{logo.variant_name(640)}"' in home


def test_the_logo_variants_the_pages_link_to_exist(client, make_user, images):
    accounts.save_cooperative(make_user("pengurus"), _details(), logo=("logo.png", images.png(size=(512, 512), mode="RGB")))
    logo = current_cooperative().logo
    for width in (320, 640):
        assert client.get(f"/media/photos/{logo.variant_name(width)}").status_code == 200
