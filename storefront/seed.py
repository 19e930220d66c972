"""Demo microsite: profile texts, pages, board members with drawn portraits, news with covers. Runs once."""
from __future__ import annotations

import io

from PIL import Image, ImageDraw
from sqlalchemy import func, select

from marketplace.accounts import find_user
from marketplace.cooperative import current_cooperative
from marketplace.extensions import db
from marketplace.seed import _font, draw_product_photo

from . import microsite
from .models import BoardMember, NewsPost

PAGES = {
    "tentang": ("Tentang koperasi", "Koperasi produsen ini didirikan oleh pelaku UMKM kuliner dan perajin sasirangan "
                "di Banjarmasin agar produk anggota punya **gerai bersama**, harga yang adil, dan pembukuan yang bisa "
                "diperiksa setiap anggota.\n\n- Gerai titip jual di Jl. Sultan Adam\n- Penjualan daring\n"
                "- Pendampingan kemasan dan perizinan (PIRT, halal)"),
    "unit-usaha": ("Unit usaha", "## Gerai titip jual\nMenjual produk anggota secara konsinyasi dengan komisi 15% "
                   "(kain 10%).\n\n## Pemasaran daring\nEtalase daring dan pemesanan lewat WhatsApp.\n\n"
                   "## Simpan pinjam modal kerja\nPinjaman bahan baku untuk anggota."),
    "potensi-desa": ("Potensi desa", "Desa Sungai Jingah dikenal dengan **kain sasirangan**, pisang kepok, ikan sungai "
                     "(haruan, tenggiri untuk amplang), serta tanaman rawa seperti purun dan kelakai.\n\n"
                     "| Komoditas | Musim |\n|---|---|\n| Pisang kepok | sepanjang tahun |\n| Ikan haruan | kemarau |"),
    "kontak": ("Kontak", "Gerai buka **Senin–Sabtu, 08.00–17.00 WITA**. Titip barang baru setiap Senin dan Kamis."),
}
BOARD = [("Ahmad Fauzi", "Ketua", "pengurus"), ("Siti Aisyah", "Sekretaris", "pengurus"),
         ("Rahmat Hidayat", "Bendahara", "pengurus"), ("Bambang Sutrisno", "Ketua Pengawas", "pengawas"),
         ("Nurul Huda", "Anggota Pengawas", "pengawas")]
NEWS = [
    ("Rapat Anggota Tahunan 2026", "RAT membahas laporan keuangan dan rencana gerai kedua.",
     "Rapat Anggota Tahunan dihadiri **84 anggota**. Laporan pertanggungjawaban pengurus diterima.\n\n"
     "Keputusan penting:\n\n1. Komisi titip jual tetap 15%\n2. Gerai kedua dibuka di Martapura"),
    ("Pelatihan foto produk dengan HP", "Anggota belajar memotret produk agar laku di etalase daring.",
     "Pelatihan diikuti 30 pelaku UMKM. Tips utama: cahaya dari jendela, latar polos, dan foto tegak."),
    ("Sasirangan tampil di pameran UMKM", "Kain sasirangan anggota dipamerkan di pameran provinsi.",
     "Tiga perajin sasirangan membawa 120 lembar kain; 70 lembar terjual selama pameran."),
]


def _portrait(name: str, seed: int) -> bytes:
    image = Image.new("RGB", (600, 600), (200 - seed * 20 % 80, 215, 200))
    draw = ImageDraw.Draw(image)
    draw.ellipse((200, 110, 400, 310), fill=(120, 90, 70))
    draw.rounded_rectangle((130, 330, 470, 640), radius=120, fill=(11, 93, 59))
    initials = "".join(part[0] for part in name.split()[:2])
    draw.text((300, 210), initials, fill=(255, 255, 255), font=_font(70), anchor="mm")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def seed_microsite() -> int:
    if db.session.scalar(select(func.count(NewsPost.id))) or db.session.scalar(select(func.count(BoardMember.id))):
        return 0
    pengurus = find_user("pengurus@demo.koperasi.id")
    coop = current_cooperative()
    if coop is not None and not coop.vision:
        coop.vision = "Menjadi koperasi produsen yang dipercaya anggota dan dikenal karena produk lokal Banjar."
        coop.mission = ("Membuka pasar bagi produk anggota\nMembayar anggota tepat waktu dengan laporan yang jelas\n"
                        "Mendampingi UMKM naik kelas")
        coop.map_url = "https://maps.google.com/?q=-3.3167,114.5900"
        coop.email = "halo@demo.koperasi.id"
        coop.hero_text = "Belanja keripik, wadai, jamu, dan kain sasirangan langsung dari UMKM anggota koperasi."
        db.session.commit()
    for key, (title, body) in PAGES.items():
        if microsite.page(key) is None:
            microsite.save_page(pengurus, key, title, body)
    for i, (name, position, body) in enumerate(BOARD):
        microsite.save_board_member(pengurus, microsite.BoardMemberData(name, position, body, i),
                                    (f"{name}.jpg", _portrait(name, i)))
    for i, (title, summary, body) in enumerate(NEWS):
        microsite.save_news(pengurus, microsite.NewsData(title=title, summary=summary, body_markdown=body,
                                                         status="published"),
                            (f"berita-{i}.jpg", draw_product_photo(title, "Kain Sasirangan" if i == 2 else "Kerajinan",
                                                                   seed=900 + i)))
    return len(NEWS)
