"""The favicon, home-screen icons and web app manifest (so the site can be added to an Android home screen)."""
import io

from PIL import Image


def test_favicon_is_a_png_icon_not_a_404(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert Image.open(io.BytesIO(response.data)).size == (32, 32)


def test_manifest_names_the_cooperative_and_lists_icons_that_exist(client, make_user):
    from marketplace.accounts import CooperativeDetails, save_cooperative

    save_cooperative(make_user("pengurus"), CooperativeDetails(name="Koperasi Produsen Jaya Bersama"))
    manifest = client.get("/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    body = manifest.get_json(force=True)
    assert body["name"] == "Koperasi Produsen Jaya Bersama" and body["short_name"] == "PJB"
    assert body["display"] == "standalone" and body["start_url"] == "/" and body["theme_color"].startswith("#")
    sizes = {icon["sizes"]: icon["src"] for icon in body["icons"]}
    assert set(sizes) == {"192x192", "512x512"}
    for size, src in sizes.items():
        icon = client.get(src)
        assert icon.status_code == 200
        assert "%dx%d" % Image.open(io.BytesIO(icon.data)).size == size


def test_every_page_links_the_icon_and_the_manifest(client):
    page = client.get("/").get_data(as_text=True)
    assert 'rel="manifest" href="/manifest.webmanifest"' in page and 'rel="icon"' in page


def test_icon_sizes_other_than_the_listed_ones_are_404(client):
    assert client.get("/ikon-5000.png").status_code == 404
