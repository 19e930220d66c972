"""A failed product form keeps the chosen photo for the next submit (marketplace.pending_photos)."""
import io
import os
import re
import time
from pathlib import Path

from sqlalchemy import select

from catalog.models import Product
from marketplace import pending_photos
from marketplace.extensions import db
from tests.conftest import jpeg_bytes

FORM = {"name": "Amplang Ikan Haruan", "price": "28.000", "unit": "bungkus 250 g", "category_id": "",
        "description": "Gurih", "status": "published"}


def _kept_tokens(page: str) -> list[str]:
    return re.findall(r'name="kept_photos" value="([^"]+)"', page)


def _pending_folders(app) -> list[Path]:
    root = pending_photos.pending_root(app.config["MEDIA_ROOT"])
    return list(root.iterdir()) if root.is_dir() else []


def test_photo_chosen_on_a_form_that_fails_is_stored_by_the_corrected_submit(client, login_as, app):
    member = login_as("member")
    failed = client.post("/kelola/produk/baru", content_type="multipart/form-data",
                         data={**FORM, "price": "", "photos": [(io.BytesIO(jpeg_bytes()), "amplang.jpg")]})
    page = failed.get_data(as_text=True)
    assert failed.status_code == 422
    assert "Foto tersimpan: amplang.jpg" in page
    [token] = _kept_tokens(page)

    preview = client.get(f"/foto-tersimpan/{token}")
    assert preview.status_code == 200 and preview.mimetype == "image/webp"
    assert "no-store" in preview.headers["Cache-Control"]

    saved = client.post("/kelola/produk/baru", content_type="multipart/form-data",
                        data={**FORM, "kept_photos": token})
    assert saved.status_code == 302
    product = db.session.scalar(select(Product))
    assert (product.member_id, len(product.photos)) == (member.id, 1)
    photo = product.photos[0]
    assert (photo.width, photo.height) == (800, 600)
    assert client.get(f"/media/photos/{photo.variant_name(320)}").status_code == 200
    assert _pending_folders(app) == []  # used once, then gone


def test_unticking_a_kept_photo_drops_it(client, login_as):
    login_as("member")
    failed = client.post("/kelola/produk/baru", content_type="multipart/form-data",
                         data={**FORM, "price": "", "photos": [(io.BytesIO(jpeg_bytes()), "amplang.jpg")]})
    assert _kept_tokens(failed.get_data(as_text=True))
    assert client.post("/kelola/produk/baru", data=FORM).status_code == 302
    assert db.session.scalar(select(Product)).photos == []


def test_a_kept_photo_is_seen_and_used_by_its_uploader_only(client, login_as, auth):
    login_as("member")
    failed = client.post("/kelola/produk/baru", content_type="multipart/form-data",
                         data={**FORM, "price": "", "photos": [(io.BytesIO(jpeg_bytes()), "amplang.jpg")]})
    [token] = _kept_tokens(failed.get_data(as_text=True))
    auth.logout()
    login_as("member")
    assert client.get(f"/foto-tersimpan/{token}").status_code == 404
    assert client.post("/kelola/produk/baru", data={**FORM, "kept_photos": token}).status_code == 302
    assert db.session.scalar(select(Product)).photos == []
    assert client.get("/foto-tersimpan/..%2F..%2Foriginals").status_code == 404


def test_a_rejected_photo_is_not_kept_and_nothing_is_written_on_get(client, login_as, images, app):
    login_as("member")
    assert client.get("/kelola/produk/baru").status_code == 200
    failed = client.post("/kelola/produk/baru", content_type="multipart/form-data",
                         data={**FORM, "price": "", "photos": [(io.BytesIO(images.text_as_jpg()), "foto.jpg")]})
    page = failed.get_data(as_text=True)
    assert "foto.jpg: bukan file gambar JPEG, PNG, atau WebP." in page
    assert _kept_tokens(page) == [] and _pending_folders(app) == []


def test_kept_photos_expire_and_are_purged(client, login_as, app, runner):
    login_as("member")
    failed = client.post("/kelola/produk/baru", content_type="multipart/form-data",
                         data={**FORM, "price": "", "photos": [(io.BytesIO(jpeg_bytes()), "amplang.jpg")]})
    [token] = _kept_tokens(failed.get_data(as_text=True))
    [folder] = _pending_folders(app)
    old = time.time() - 3 * 3600
    for path in [folder, *folder.iterdir()]:
        os.utime(path, (old, old))
    (folder / "meta.json").write_text((folder / "meta.json").read_text().replace('"created": ', '"created": 1, "x": '))
    os.utime(folder, (old, old))
    assert client.get(f"/foto-tersimpan/{token}").status_code == 404
    result = runner.invoke(args=["purge-pending-photos"])
    assert result.exit_code == 0 and "1" in result.output
    assert _pending_folders(app) == []


def test_news_cover_chosen_on_a_failed_form_is_used_by_the_next_submit(client, login_as):
    from storefront.models import NewsPost

    login_as("pengurus")
    news = {"title": "", "summary": "", "body": "Panen raya", "status": "published"}
    failed = client.post("/admin/situs/berita/baru", content_type="multipart/form-data",
                         data={**news, "cover": (io.BytesIO(jpeg_bytes()), "panen.jpg")})
    [token] = _kept_tokens(failed.get_data(as_text=True))
    saved = client.post("/admin/situs/berita/baru", data={**news, "title": "Panen raya", "kept_photos": token})
    assert saved.status_code == 302
    assert db.session.scalar(select(NewsPost)).cover_hash


def test_logo_chosen_on_a_failed_settings_form_is_used_by_the_next_submit(client, login_as):
    from marketplace.cooperative import current_cooperative

    login_as("pengurus")
    settings = {"name": "", "default_commission": "20", "whatsapp": "", "legal_number": "", "address": "",
                "village": "", "about": "", "hero_text": "", "vision": "", "mission": "", "email": "", "map_url": ""}
    failed = client.post("/admin/koperasi", content_type="multipart/form-data",
                         data={**settings, "logo": (io.BytesIO(jpeg_bytes()), "logo.jpg")})
    [token] = _kept_tokens(failed.get_data(as_text=True))
    saved = client.post("/admin/koperasi", data={**settings, "name": "Koperasi Maju", "kept_photos": token})
    assert saved.status_code == 302
    assert current_cooperative().logo_hash
