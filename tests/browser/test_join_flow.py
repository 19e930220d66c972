"""A woman who makes dodol asks on her phone to consign in the gerai: a failed submit keeps what she typed
and her photo; the corrected form sends, and she sees the confirmation."""
import pytest
from sqlalchemy import select

from tests.conftest import watch_csp

pytestmark = pytest.mark.browser


def test_the_join_form_on_a_phone_keeps_fields_and_photo_after_a_failed_submit(browser, live_server, app, images,
                                                                              tmp_path):
    from joining.models import JoinRequest
    from marketplace.extensions import db

    photo = tmp_path / "dodol.jpg"
    photo.write_bytes(images.rotated_phone_photo())
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="id-ID")
    page = context.new_page()
    page.set_default_timeout(15_000)
    violations = watch_csp(page)
    try:
        page.goto(live_server)
        page.get_by_role("link", name="Titip produk di sini").click()
        page.get_by_role("heading", name="Titip produk di gerai kami").wait_for()
        page.get_by_label("Nama usaha").fill("Dodol Kandangan Ibu Ramlah")
        page.get_by_label("Nama Anda").fill("Ramlah")
        page.get_by_label("Nomor WhatsApp").fill("0812")  # too short
        page.get_by_label("Alamat").fill("Jl. Simpang Empat 12, Kandangan")
        page.get_by_label("Yang Anda buat").fill("Dodol ketan dan durian")
        page.locator("input[type=file]").set_input_files(str(photo))
        page.get_by_role("button", name="Kirim pendaftaran").click()

        page.get_by_text("Nomor WhatsApp tidak valid").first.wait_for()
        assert page.get_by_label("Nama usaha").input_value() == "Dodol Kandangan Ibu Ramlah"
        assert page.get_by_label("Yang Anda buat").input_value() == "Dodol ketan dan durian"
        kept = page.locator(".kept-photos img")
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=kept.element_handle())
        assert page.evaluate("document.documentElement.scrollWidth") <= 360

        page.get_by_label("Nomor WhatsApp").fill("0813 7777 8888")
        page.get_by_role("button", name="Kirim pendaftaran").click()
        page.get_by_role("heading", name="Terima kasih, pendaftaran Anda terkirim").wait_for()
    finally:
        context.close()
    assert violations == [], violations
    join = db.session.scalar(select(JoinRequest))
    assert (join.business_name, join.whatsapp, join.status) == ("Dodol Kandangan Ibu Ramlah", "6281377778888", "pending")
    assert join.photo is not None
