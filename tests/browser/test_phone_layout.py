"""Every page, as every role, on a 360×740 phone: nothing scrolls sideways, buttons and fields are at least
44 px high, nothing answers 5xx, and the Content-Security-Policy holds. Pages come from the URL map (a new route is walked without being listed)
with real ids from the demo cooperative."""
import pytest

from tests.browser.phone_pages import (OVERFLOW_JS, PHONE, ROLES, SMALL_TARGETS_JS, close_quietly, demo_values,
                                      fill_carts, get_pages, seed_demo_cooperative, sign_in)
from tests.conftest import watch_csp

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(app):
    seed_demo_cooperative()
    values = demo_values()
    return get_pages(app, values), values[""]


def test_every_page_fits_a_360_px_phone_for_every_role(browser, live_server, demo):
    pages, values = demo
    problems, looked_at = [], 0
    for role in ROLES:
        # The layout walk needs no service worker (test_offline_counter covers it); Chromium can stall
        # closing a page whose worker is still installing, so the walk blocks them.
        context = browser.new_context(viewport=PHONE, locale="id-ID", is_mobile=True, has_touch=True,
                                      service_workers="block")
        sign_in(context, live_server, role)
        fill_carts(context, live_server, role, values)  # the cart and the POS with lines, totals and buttons
        page = context.new_page()
        page.set_default_timeout(15_000)
        violations = watch_csp(page)
        seen = set()
        for item in pages:
            # Ask first without following redirects: a page this role may not see is not rendered again.
            answer = context.request.get(live_server + item.url, max_redirects=0)
            if answer.status >= 500:
                problems.append(f"{role} {item.url}: HTTP {answer.status}")
                continue
            if answer.status != 200 or "text/html" not in answer.headers.get("content-type", ""):
                continue
            response = page.goto(live_server + item.url)
            if response.status >= 500:
                problems.append(f"{role} {item.url}: HTTP {response.status}")
                continue
            looked_at += 1
            seen.add(item.endpoint)
            for found in page.evaluate(OVERFLOW_JS) + page.evaluate(SMALL_TARGETS_JS):
                problems.append(f"{role} {item.url}: {found}")
        problems.extend(f"{role}: {v}" for v in violations)
        close_quietly(page)
        context.close()
        assert seen, f"{role} saw no page at all"
    assert looked_at > 100
    assert problems == [], "\n".join(problems)
