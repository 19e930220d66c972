"""Demo cooperative: members (culinary and sasirangan craft), products with drawn photos, staff logins.

Idempotent: every object is looked up by a natural key first, so running it twice adds nothing.
"""
from __future__ import annotations

import io
import random
from datetime import date

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select

from catalog import services as catalog_services
from catalog.models import Category, Product
from catalog.services import ProductData, Upload

from .accounts import MemberDetails, create_member_account, create_user, find_user
from .extensions import db
from .models import Cooperative, User
from .photos import store_upload
from .text import slugify

DEMO_PASSWORD = "demo12345"
DEMO_LOGINS = {
    "password": DEMO_PASSWORD,
    "accounts": [
        ("pengurus", "pengurus@demo.koperasi.id"),
        ("kasir", "kasir@demo.koperasi.id"),
        ("pengawas", "pengawas@demo.koperasi.id"),
        ("member", "keripik.acil@demo.koperasi.id"),
    ],
}

CATEGORIES = ["Makanan Ringan", "Kue & Roti", "Minuman Herbal", "Sambal & Bumbu", "Kain Sasirangan", "Kerajinan"]

# (business, owner, email local part, category, [(product, price, unit, description)])
MEMBERS = [
    ("Keripik Acil Banjar", "Siti Rahmah", "keripik.acil", "Makanan Ringan", [
        ("Keripik Pisang Kepok 250 g", 15000, "bungkus 250 g", "Keripik pisang kepok renyah, digoreng dengan minyak kelapa, tanpa pengawet."),
        ("Keripik Pisang Manis 250 g", 16000, "bungkus 250 g", "Pisang kepok dengan balutan gula aren."),
        ("Keripik Singkong Balado", 12000, "bungkus 200 g", "Singkong tipis dengan bumbu balado pedas manis."),
        ("Keripik Tempe Sagu", 13000, "bungkus 200 g", "Tempe tipis bersalut tepung sagu, gurih dan renyah."),
        ("Rengginang Ketan", 18000, "bungkus 300 g", "Rengginang ketan putih, tinggal digoreng."),
    ]),
    ("Amplang Sungai Tabuk", "Rusdiansyah", "amplang.tabuk", "Makanan Ringan", [
        ("Amplang Ikan Tenggiri", 25000, "bungkus 250 g", "Amplang dari ikan tenggiri segar, khas Kalimantan."),
        ("Amplang Ikan Haruan", 28000, "bungkus 250 g", "Amplang ikan gabus (haruan), renyah dan gurih."),
        ("Kerupuk Ikan Pipih", 20000, "bungkus 250 g", "Kerupuk ikan pipih siap goreng."),
        ("Kerupuk Udang Sungai", 22000, "bungkus 250 g", "Kerupuk udang galah sungai."),
        ("Amplang Pedas Cabai Rawit", 26000, "bungkus 250 g", "Amplang tenggiri dengan cabai rawit kering."),
    ]),
    ("Wadai Banjar Hj. Aluh", "Hj. Aluh", "wadai.aluh", "Kue & Roti", [
        ("Bingka Kentang", 45000, "loyang", "Kue bingka kentang khas Banjar, lembut dan harum."),
        ("Amparan Tatak Pisang", 40000, "loyang", "Wadai amparan tatak berisi pisang, santan gurih."),
        ("Kue Lam", 60000, "loyang", "Kue lapis Banjar dengan rempah."),
        ("Putri Selat", 38000, "loyang", "Wadai hijau pandan dengan lapisan santan."),
        ("Roti Pisang Cokelat", 10000, "pcs", "Roti lembut isi pisang dan cokelat."),
    ]),
    ("Dapur Kue Nadia", "Nadia Putri", "kue.nadia", "Kue & Roti", [
        ("Nastar Nanas Premium", 85000, "toples 500 g", "Nastar isi selai nanas buatan sendiri."),
        ("Kastengel Keju", 90000, "toples 500 g", "Kastengel keju edam."),
        ("Putri Salju", 75000, "toples 500 g", "Kue putri salju lumer di mulut."),
        ("Bolu Pandan Gulung", 35000, "pcs", "Bolu gulung pandan isi selai srikaya."),
        ("Brownies Panggang", 50000, "kotak", "Brownies cokelat panggang, padat dan lembap."),
    ]),
    ("Jamu Sehat Mama Ijah", "Khadijah", "jamu.ijah", "Minuman Herbal", [
        ("Jamu Kunyit Asam 500 ml", 12000, "botol 500 ml", "Jamu kunyit asam segar tanpa pengawet."),
        ("Beras Kencur 500 ml", 12000, "botol 500 ml", "Minuman beras kencur tradisional."),
        ("Wedang Jahe Merah Instan", 25000, "toples 250 g", "Serbuk jahe merah dengan gula aren."),
        ("Temulawak Madu", 15000, "botol 250 ml", "Temulawak dengan madu hutan."),
        ("Sirup Serai Lemon", 30000, "botol 500 ml", "Sirup serai dan lemon, segar diseduh dingin."),
    ]),
    ("Teh Kelakai Barabai", "M. Ridwan", "kelakai", "Minuman Herbal", [
        ("Teh Daun Kelakai", 20000, "kotak 20 kantong", "Teh dari daun kelakai, tanaman rawa Kalimantan."),
        ("Teh Bajakah", 35000, "kotak 20 kantong", "Teh akar bajakah kering."),
        ("Kopi Liberika Gambut", 45000, "bungkus 250 g", "Kopi liberika dari lahan gambut, sangrai medium."),
        ("Teh Rosela Kering", 22000, "bungkus 100 g", "Kelopak rosela kering untuk diseduh."),
        ("Madu Kelulut", 95000, "botol 250 ml", "Madu lebah kelulut, asam manis segar."),
    ]),
    ("Sambal Acan Julak", "Julak Ahmad", "sambal.julak", "Sambal & Bumbu", [
        ("Sambal Acan Botol", 25000, "botol 150 g", "Sambal terasi (acan) khas Banjar."),
        ("Sambal Ikan Asin Peda", 30000, "botol 150 g", "Sambal dengan ikan asin peda suwir."),
        ("Sambal Bawang Goreng", 23000, "botol 150 g", "Sambal bawang pedas dengan minyak bawang."),
        ("Bumbu Soto Banjar", 15000, "bungkus", "Bumbu soto Banjar siap masak, untuk 10 porsi."),
        ("Abon Ikan Haruan", 40000, "bungkus 100 g", "Abon ikan gabus pedas manis."),
    ]),
    ("Rempah Martapura", "Nurhayati", "rempah.martapura", "Sambal & Bumbu", [
        ("Kayu Manis Bubuk", 15000, "bungkus 100 g", "Kayu manis bubuk murni."),
        ("Lada Hitam Butir", 28000, "bungkus 100 g", "Lada hitam pilihan."),
        ("Bumbu Ketupat Kandangan", 17000, "bungkus", "Bumbu kuah ketupat Kandangan."),
        ("Gula Aren Cair", 22000, "botol 350 ml", "Gula aren cair murni."),
        ("Terasi Udang Rebon", 12000, "bungkus 100 g", "Terasi udang rebon fermentasi alami."),
    ]),
    ("Sasirangan Galuh", "Galuh Permata", "sasirangan.galuh", "Kain Sasirangan", [
        ("Kain Sasirangan Motif Gigi Haruan", 175000, "lembar 2 m", "Kain sasirangan katun primisima motif gigi haruan, pewarna alami."),
        ("Kain Sasirangan Motif Kulat Karikit", 165000, "lembar 2 m", "Motif kulat karikit, katun."),
        ("Kain Sasirangan Sutra Motif Naga Balimbur", 450000, "lembar 2 m", "Sutra dengan motif naga balimbur, eksklusif."),
        ("Selendang Sasirangan", 95000, "lembar", "Selendang sasirangan ringan."),
        ("Masker Kain Sasirangan", 15000, "pcs", "Masker kain tiga lapis bermotif sasirangan."),
    ]),
    ("Sasirangan Kampung Melayu", "Abdul Hadi", "sasirangan.melayu", "Kain Sasirangan", [
        ("Kemeja Sasirangan Pria", 250000, "pcs", "Kemeja lengan panjang dari kain sasirangan."),
        ("Blus Sasirangan Wanita", 220000, "pcs", "Blus sasirangan potongan modern."),
        ("Kain Sasirangan Motif Bayam Raja", 160000, "lembar 2 m", "Motif bayam raja warna cerah."),
        ("Kain Sasirangan Motif Ombak Sinapur Karang", 170000, "lembar 2 m", "Motif ombak, katun."),
        ("Tas Jinjing Sasirangan", 120000, "pcs", "Tas jinjing berlapis kain sasirangan."),
    ]),
    ("Anyaman Purun Desa", "Sarmilah", "purun", "Kerajinan", [
        ("Tas Anyaman Purun", 85000, "pcs", "Tas dari purun tikus, tanaman rawa, dianyam tangan."),
        ("Tikar Purun Motif", 150000, "lembar", "Tikar purun motif warna-warni."),
        ("Topi Purun", 45000, "pcs", "Topi anyaman purun."),
        ("Tempat Tisu Purun", 35000, "pcs", "Tempat tisu anyaman."),
        ("Dompet Purun", 30000, "pcs", "Dompet kecil anyaman purun."),
    ]),
    ("Ukir Kayu Ulin Nagara", "Hasan Basri", "ulin", "Kerajinan", [
        ("Talenan Kayu Ulin", 65000, "pcs", "Talenan kayu ulin, awet dan berat."),
        ("Miniatur Rumah Banjar Bubungan Tinggi", 350000, "pcs", "Miniatur rumah adat Banjar dari kayu."),
        ("Gantungan Kunci Jukung", 10000, "pcs", "Gantungan kunci bentuk jukung (perahu)."),
        ("Sendok Kayu Set", 40000, "set 3 pcs", "Sendok kayu untuk masak."),
        ("Asbak Ukir Kayu", 55000, "pcs", "Asbak kayu berukir motif Banjar."),
    ]),
]

PALETTE = {
    "Makanan Ringan": ((233, 196, 106), (176, 120, 40)),
    "Kue & Roti": ((244, 214, 188), (160, 90, 60)),
    "Minuman Herbal": ((190, 220, 160), (70, 120, 50)),
    "Sambal & Bumbu": ((230, 120, 90), (140, 30, 20)),
    "Kain Sasirangan": ((120, 90, 170), (240, 200, 60)),
    "Kerajinan": ((200, 170, 120), (100, 70, 40)),
}


def _font(size: int):
    try:
        return ImageFont.truetype("DejaVuSans-Bold.ttf", size)
    except OSError:
        return ImageFont.load_default(size=size)


def draw_product_photo(name: str, category: str, seed: int, size=(960, 720)) -> bytes:
    """A recognisable stand-in photo: coloured background, a motif, and the product name."""
    rng = random.Random(seed)
    bg, fg = PALETTE.get(category, ((220, 220, 220), (60, 60, 60)))
    image = Image.new("RGB", size, bg)
    draw = ImageDraw.Draw(image)
    w, h = size
    if category == "Kain Sasirangan":  # zig-zag stripes like a sasirangan motif
        for y in range(0, h, 60):
            points = [(x, y + (20 if (x // 40) % 2 else 0)) for x in range(0, w + 40, 40)]
            draw.line(points, fill=fg, width=10)
    else:
        for _ in range(18):
            r = rng.randint(20, 90)
            x, y = rng.randint(0, w), rng.randint(0, h)
            draw.ellipse((x - r, y - r, x + r, y + r), fill=fg if rng.random() < 0.5 else tuple(min(255, c + 30) for c in bg))
    draw.rectangle((0, h - 170, w, h), fill=(255, 255, 255))
    font = _font(46)
    words, lines, line = name.split(), [], ""
    for word in words:
        trial = f"{line} {word}".strip()
        if draw.textlength(trial, font=font) > w - 60 and line:
            lines.append(line)
            line = word
        else:
            line = trial
    lines.append(line)
    for i, text in enumerate(lines[:3]):
        draw.text((30, h - 160 + i * 52), text, fill=(30, 30, 30), font=font)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _ensure_cooperative() -> Cooperative:
    coop = db.session.scalar(select(Cooperative).order_by(Cooperative.id).limit(1))
    if coop is None:
        coop = Cooperative(
            name="Koperasi Produsen Jaya Bersama Banjar",
            legal_number="AHU-0001234.AH.01.26.TAHUN 2021",
            address="Jl. Sultan Adam No. 12, Banjarmasin, Kalimantan Selatan",
            village="Sungai Jingah",
            whatsapp="6281234567890",
            about="Koperasi produsen UMKM kuliner dan kerajinan sasirangan. Produk anggota dititipkan di gerai "
                  "koperasi dan dijual secara langsung maupun daring.",
            default_commission_bp=1500,
            time_zone="Asia/Makassar",  # Banjarmasin: WITA
        )
        db.session.add(coop)
        db.session.commit()
    return coop


def draw_logo(initials: str = "KJB", size: int = 512) -> bytes:
    """A round cooperative emblem: green disc, a gold ring, a sprig, and the initials."""
    image = Image.new("RGB", (size, size), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.ellipse((8, 8, size - 8, size - 8), fill=(22, 101, 52))
    draw.ellipse((40, 40, size - 40, size - 40), outline=(234, 179, 8), width=14)
    cx = size // 2
    draw.line((cx, size * 0.2, cx, size * 0.45), fill=(234, 179, 8), width=10)
    for i in range(4):  # a sprig of grain
        y = size * (0.22 + i * 0.06)
        draw.ellipse((cx - 46, y, cx - 6, y + 24), fill=(234, 179, 8))
        draw.ellipse((cx + 6, y, cx + 46, y + 24), fill=(234, 179, 8))
    font = _font(size // 5)
    width = draw.textlength(initials, font=font)
    draw.text(((size - width) / 2, size * 0.55), initials, fill=(255, 255, 255), font=font)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _ensure_logo(coop: Cooperative) -> None:
    if coop.logo_hash:
        return
    coop.set_logo(store_upload(draw_logo(), "logo.png", "logo"))
    db.session.commit()


def _ensure_staff() -> None:
    staff = [("pengurus", "Ahmad Fauzi (Ketua)"), ("kasir", "Rina Kasir"), ("pengawas", "Bambang Pengawas")]
    for role, name in staff:
        email = f"{role}@demo.koperasi.id"
        if find_user(email) is None:
            create_user(name=name, email=email, password=DEMO_PASSWORD, role=role)


def _ensure_categories(actor: User) -> dict[str, Category]:
    existing = {c.name: c for c in db.session.scalars(select(Category))}
    for name in CATEGORIES:
        if name not in existing:
            existing[name] = catalog_services.create_category(actor, name)
    return existing


def seed_demo() -> int:
    """Create whatever part of the demo cooperative is missing. Returns the number of new products."""
    _ensure_logo(_ensure_cooperative())
    _ensure_staff()
    pengurus = find_user("pengurus@demo.koperasi.id")
    categories = _ensure_categories(pengurus)
    created = 0
    for index, (business, owner, local, category, products) in enumerate(MEMBERS):
        email = f"{local}@demo.koperasi.id"
        user = find_user(email)
        if user is None:
            phone = f"0812{5000000 + index * 1111:07d}"
            create_member_account(
                details=MemberDetails(business_name=business, owner_name=owner, whatsapp=phone,
                                      address="Banjarmasin, Kalimantan Selatan", bank_name="Bank Kalsel",
                                      bank_account_number=f"0010{index:02d}{index * 7919 % 100000:05d}",
                                      bank_account_holder=owner, joined_on=date(2021 + index % 4, 1 + index % 12, 1)),
                email=email, phone=None, password=DEMO_PASSWORD, actor=pengurus)
            user = find_user(email)
        for n, (name, price, unit, description) in enumerate(products):
            if db.session.scalar(select(Product.id).where(Product.slug == slugify(name))):
                continue
            photo = draw_product_photo(name, category, seed=index * 100 + n)
            catalog_services.create_product(
                user, ProductData(name=name, price=price, unit=unit, description=description,
                                  category_id=categories[category].id, status="published"),
                [Upload(f"{slugify(name)}.jpg", photo)])
            created += 1
    return created
