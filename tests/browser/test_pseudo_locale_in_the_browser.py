"""The pseudo-locale walk in a real browser: every page of the URL map, rendered by chromium at 360 px
after its scripts ran (counters, the POS change preview, the intake picker), shows only translated text
(marked ⟦…⟧ by the pseudo catalogue) or data. tests/marketplace/test_pseudo_locale.py walks the same pages
as every role through the app; here each page is rendered once, by the first role that may see it."""
import pytest
from sqlalchemy import select

from marketplace.extensions import db
from tests.browser.phone_pages import PHONE
from tests.conftest import watch_csp
from tests.marketplace.test_pseudo_locale import (IN_STOCK_SLUG, ROLES, _get_urls, _real_arguments,  # noqa: F401
                                                  _stored_text, app, app_config, unmarked_text)

pytestmark = pytest.mark.browser


def _sign_in(context, base: str, login: str) -> None:
    from marketplace.seed import DEMO_PASSWORD

    page = context.new_page()
    page.goto(f"{base}/masuk")
    page.locator("input[name=identifier]").fill(login)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert "/masuk" not in page.url, f"signing in as {login} failed"
    page.close()


def test_every_page_rendered_by_the_browser_shows_only_translated_text_or_data(app, runner, browser, live_server):
    from catalog.models import Product
    from orders import services as orders

    assert runner.invoke(args=["seed-demo", "--quiet"]).exit_code == 0
    product = db.session.scalar(select(Product).where(Product.slug == IN_STOCK_SLUG))  # some are sold out
    orders.place_order({product.id: 1}, orders.Customer("Budi Santoso", "081211112222"), "gerai")
    data, urls = _stored_text(), _get_urls(app, _real_arguments())
    problems, rendered = {}, set()
    for login in ROLES:
        context = browser.new_context(viewport=PHONE, locale="id-ID", service_workers="block")  # as the layout walk
        if login:
            _sign_in(context, live_server, login)
        page = context.new_page()
        page.set_default_timeout(15_000)
        violations = watch_csp(page)
        for url in urls:
            if url in rendered:
                continue
            answer = context.request.get(live_server + url, max_redirects=0, timeout=15_000)
            assert answer.status < 500, (login, url)
            if answer.status != 200 or "text/html" not in answer.headers.get("content-type", ""):
                continue
            page.goto(live_server + url)
            rendered.add(url)
            unmarked = unmarked_text(page.content(), data)
            if unmarked:
                problems[f"{login or 'shopper'} {url}"] = sorted(set(unmarked))
        assert violations == [], violations
        context.close()
    assert len(rendered) >= 50
    assert problems == {}, "\n".join(f"{page}: {texts}" for page, texts in problems.items())
