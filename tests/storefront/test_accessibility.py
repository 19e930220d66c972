"""Basic accessibility of public pages: every image has alt text, every form control a label,
one h1, a language, and images carry width and height (no layout jumps)."""
from html.parser import HTMLParser

import pytest


class Audit(HTMLParser):
    def __init__(self):
        super().__init__()
        self.problems, self.labels, self.controls, self.h1 = [], set(), [], 0
        self.lang = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "h1":
            self.h1 += 1
        if tag == "img":
            if "alt" not in a:
                self.problems.append(f"img without alt: {a.get('src', '')[:60]}")
            if not (a.get("width") and a.get("height")):
                self.problems.append(f"img without width/height: {a.get('src', '')[:60]}")
        if tag == "label" and a.get("for"):
            self.labels.add(a["for"])
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit", "radio", "checkbox"):
            self.controls.append(a)

    def result(self):
        for control in self.controls:
            if not (control.get("aria-label") or control.get("id") in self.labels):
                self.problems.append(f"control without label: {control.get('name')}")
        if self.h1 != 1:
            self.problems.append(f"{self.h1} h1 elements")
        if not self.lang:
            self.problems.append("no lang on html")
        return self.problems


@pytest.fixture
def shop(make_product, make_lot):
    product = make_product(name="Keripik Pisang Kepok", photos=2)
    make_lot(product, quantity=5)
    return product


@pytest.mark.parametrize("url", ["/", "/produk", "/produk?q=keripik", "PRODUCT", "/keranjang", "/masuk", "/tentang",
                                 "/pengurus", "/berita", "/kontak", "/transparansi", "/checkout"])
def test_public_pages_pass_basic_accessibility_checks(client, shop, url):
    client.post("/keranjang/tambah", data={"product_id": shop.id})
    response = client.get(f"/produk/{shop.slug}" if url == "PRODUCT" else url)
    assert response.status_code == 200
    audit = Audit()
    audit.feed(response.get_data(as_text=True))
    assert audit.result() == []


def test_brand_colours_have_enough_contrast():
    def luminance(hex_colour):
        rgb = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    def ratio(a, b):
        la, lb = sorted((luminance(a), luminance(b)), reverse=True)
        return (la + 0.05) / (lb + 0.05)

    import re
    from pathlib import Path

    css = (Path(__file__).resolve().parents[2] / "marketplace/static/style.css").read_text()
    var = {name: value if len(value) == 7 else "#" + "".join(c * 2 for c in value[1:])
           for name, value in re.findall(r"--([a-z-]+):(#[0-9a-fA-F]{6}|#[0-9a-fA-F]{3})\b", css)}
    # Text colours in style.css against their backgrounds (WCAG AA: 4.5 for body text).
    for fg, bg in [("fg", "bg"), ("muted", "bg"), ("brand-fg", "brand"), ("brand", "card"), ("err", "bg")]:
        assert ratio(var[fg], var[bg]) >= 4.5, (fg, bg, ratio(var[fg], var[bg]))
