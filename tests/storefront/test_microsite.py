import io

from storefront import microsite
from tests.conftest import jpeg_bytes


def test_markdown_is_sanitised_before_it_is_stored(make_user):
    post = microsite.save_news(make_user("pengurus"), microsite.NewsData(
        title="Berita uji", status="published",
        body_markdown="**Tebal** <script>alert(1)</script> [klik](javascript:alert(2)) <img src=x onerror=alert(3)>"
                      "\n\n[aman](https://koperasi.id)"))
    html = post.body_html
    assert "<strong>Tebal</strong>" in html and 'href="https://koperasi.id"' in html
    for bad in ("<script", "javascript:", "onerror"):
        assert bad not in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_public_microsite_pages_answer_200(client, make_user, make_product):
    pengurus = make_user("pengurus")
    microsite.save_page(pengurus, "unit-usaha", "Unit usaha", "## Gerai titip jual")
    microsite.save_board_member(pengurus, microsite.BoardMemberData("Ahmad Fauzi", "Ketua"), ("a.jpg", jpeg_bytes()))
    post = microsite.save_news(pengurus, microsite.NewsData("Rapat Anggota", "Isi **berita**", status="published"),
                               ("c.jpg", jpeg_bytes(seed=2)))
    product = make_product()
    for url in ("/", "/produk", "/tentang", "/pengurus", "/unit-usaha", "/potensi-desa", "/berita", "/kontak",
                f"/berita/{post.slug}", f"/produk/{product.slug}", f"/umkm/{product.member.slug}", "/transparansi",
                "/sitemap.xml", "/robots.txt", "/keranjang"):
        assert client.get(url).status_code == 200, url
    assert "Ahmad Fauzi" in client.get("/pengurus").get_data(as_text=True)
    assert "<h2>Gerai titip jual</h2>" in client.get("/unit-usaha").get_data(as_text=True)
    news = client.get(f"/berita/{post.slug}").get_data(as_text=True)
    assert 'property="og:image"' in news and "<strong>berita</strong>" in news


def test_unknown_and_unpublished_things_are_404(client, make_user, make_member):
    draft = microsite.save_news(make_user("pengurus"), microsite.NewsData("Draf rahasia", "x", status="draft"))
    for url in (f"/berita/{draft.slug}", "/berita/tidak-ada", "/produk/tidak-ada", "/umkm/tidak-ada"):
        assert client.get(url).status_code == 404, url
    assert "Draf rahasia" not in client.get("/berita").get_data(as_text=True)


def test_sitemap_lists_published_products_members_and_news_only(client, make_user, make_product):
    live = make_product(name="Amplang Tenggiri")
    hidden = make_product(name="Belum Tayang", status="draft")
    post = microsite.save_news(make_user("pengurus"), microsite.NewsData("Kabar", "x", status="published"))
    xml = client.get("/sitemap.xml").get_data(as_text=True)
    assert f"/produk/{live.slug}</loc>" in xml and f"/produk/{hidden.slug}<" not in xml
    assert f"/berita/{post.slug}</loc>" in xml and f"/umkm/{live.member.slug}</loc>" in xml
    robots = client.get("/robots.txt").get_data(as_text=True)
    assert "Disallow: /pesanan/" in robots and "Sitemap: http" in robots


def test_no_public_page_leaks_a_members_private_data(client, make_member, make_product, make_lot, make_user):
    member = make_member(bank_account_number="7654321098", email="rahasia@umkm.id")
    product = make_product(member, photos=1)
    make_lot(product, quantity=3)
    private = (member.bank_account_number, member.whatsapp, member.user.email, member.owner_name, member.address or "@@")
    for url in ("/", "/produk", f"/produk/{product.slug}", f"/umkm/{member.slug}", "/transparansi", "/sitemap.xml",
                "/tentang", "/pengurus", "/berita", "/kontak", f"/produk?q={product.name}"):
        page = client.get(url).get_data(as_text=True)
        for secret in private:
            assert secret not in page, (url, secret)


def test_pengurus_edits_a_microsite_page(client, login_as):
    login_as("pengurus")
    assert client.get("/admin/situs").status_code == 200
    response = client.post("/admin/situs/halaman/potensi-desa", data={"title": "Potensi", "body": "Pisang kepok"})
    assert response.status_code == 302
    assert "Pisang kepok" in client.get("/potensi-desa").get_data(as_text=True)


def test_board_photo_that_is_not_an_image_is_refused_and_the_form_kept(client, auth, make_user):
    auth.login(make_user("pengurus").email)
    response = client.post("/admin/situs/pengurus/baru", content_type="multipart/form-data", data={
        "name": "Siti Aisyah", "position": "Sekretaris", "body": "pengurus", "position_order": "1",
        "photo": (io.BytesIO(b"bukan gambar" * 50), "siti.jpg")})
    page = response.get_data(as_text=True)
    assert "siti.jpg: bukan file gambar" in page and 'value="Siti Aisyah"' in page
    assert microsite.board() == []


def test_an_empty_cover_file_is_named_and_the_news_form_kept(client, auth, make_user):
    auth.login(make_user("pengurus").email)
    response = client.post("/admin/situs/berita/baru", content_type="multipart/form-data", data={
        "title": "Gerai kedua dibuka", "summary": "Di Martapura", "body": "Mulai **Desember**.",
        "status": "published", "cover": (io.BytesIO(b""), "sampul.jpg")})
    page = response.get_data(as_text=True)
    assert "sampul.jpg: file kosong." in page and 'value="Gerai kedua dibuka"' in page
    assert microsite.all_news() == []


def test_pengurus_writes_news_with_a_cover_that_appears_on_home(client, auth, make_user):
    auth.login(make_user("pengurus").email)
    client.post("/admin/situs/berita/baru", content_type="multipart/form-data", data={
        "title": "Gerai kedua dibuka", "summary": "Di Martapura", "body": "Mulai **Desember**.",
        "status": "published", "cover": (io.BytesIO(jpeg_bytes(size=(1600, 900))), "sampul.jpg")})
    home = client.get("/").get_data(as_text=True)
    assert "Gerai kedua dibuka" in home and "-320.webp" in home
