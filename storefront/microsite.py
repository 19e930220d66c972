"""The cooperative's microsite content: pages, board members, news. Edited by pengurus.

Markdown is rendered and then sanitised with nh3 (Ammonia) *before it is stored*, and templates only
ever print the stored, sanitised HTML; scripts, event handlers and javascript: links never survive.
"""
from __future__ import annotations

from dataclasses import dataclass

import markdown as markdown_lib
import nh3
from marketplace.i18n import gettext as _
from sqlalchemy import bindparam, select

from marketplace import pending_photos
from marketplace import photos as photo_store
from marketplace.pending_photos import PendingPhoto
from marketplace.audit import record_event
from marketplace.errors import DomainError, NotFound
from marketplace.extensions import db
from marketplace.models import User
from marketplace.shared_values import remembered
from marketplace.text import limited, slugify
from marketplace.timeutil import utcnow
from marketplace.transaction import transaction

from .models import BoardMember, NewsPost, SitePage
from .services import _read

MAX_BODY = 50000  # characters of Markdown in a page or news post

PAGE_KEYS = {
    "tentang": "Tentang koperasi",
    "unit-usaha": "Unit usaha",
    "potensi-desa": "Potensi desa",
    "kontak": "Kontak",
}
ALLOWED_TAGS = {"p", "br", "strong", "em", "b", "i", "ul", "ol", "li", "h2", "h3", "h4", "blockquote", "a", "img",
                "table", "thead", "tbody", "tr", "th", "td", "hr", "code", "pre"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"},
                      "th": {"align"}, "td": {"align"}}


def render_markdown(text: str) -> str:
    html = markdown_lib.markdown(text or "", extensions=["extra", "sane_lists"], output_format="html")
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes={"http", "https", "mailto"},
                     link_rel="noopener noreferrer nofollow")


# --- pages -----------------------------------------------------------------------------------------

def page(key: str) -> SitePage | None:
    return db.session.scalar(select(SitePage).where(SitePage.key == key))


def save_page(actor: User, key: str, title: str, body_markdown: str) -> SitePage:
    if key not in PAGE_KEYS:
        raise NotFound(_("Page not found."))
    with transaction():
        title = limited(title, 200, "title", _("Title")) or PAGE_KEYS[key]
        item = page(key) or SitePage(key=key, title=title)
        db.session.add(item)
        item.title, item.body_markdown = title, limited(body_markdown, MAX_BODY, "body", _("Text"))
        item.body_html = render_markdown(item.body_markdown)
        db.session.flush()
        record_event(actor, "site.page", item, key, title=item.title)
    return item


# --- board -----------------------------------------------------------------------------------------

@dataclass
class BoardMemberData:
    name: str
    position: str
    body: str = "pengurus"
    position_order: int = 0


def board() -> list[BoardMember]:
    return list(db.session.scalars(select(BoardMember).order_by(BoardMember.body.desc(), BoardMember.position_order,
                                                               BoardMember.id)))


def save_board_member(actor: User, data: BoardMemberData, photo: tuple[str, bytes] | PendingPhoto | None = None,
                      member_id: int | None = None) -> BoardMember:
    """`photo`: a new upload (filename, bytes) or a photo kept from a failed submit, or None."""
    name = limited(data.name, 200, "name", _("Name"))
    position = limited(data.position, 200, "position", _("Position"))
    if not name or not position:
        raise DomainError(_("Fill in the name and the position."), field="name")
    if data.body not in ("pengurus", "pengawas"):
        raise DomainError(_("Choose pengurus or pengawas."), field="body")
    stored = pending_photos.store_chosen(photo, actor.id, "photo")  # validated before the transaction
    with transaction():
        item = db.session.get(BoardMember, member_id) if member_id else BoardMember()
        if item is None:
            raise NotFound(_("Not found."))
        db.session.add(item)
        item.name, item.position = name, position
        item.body, item.position_order = data.body, data.position_order
        old_photo = item.photo_hash
        if stored:
            item.photo_hash, item.photo_width, item.photo_height = stored.content_hash, stored.width, stored.height
        db.session.flush()
        record_event(actor, "site.board", item, f"{item.name} – {item.position}", name=item.name)
    pending_photos.discard([photo])
    if old_photo != item.photo_hash:
        photo_store.release_photo(old_photo)
    return item


def delete_board_member(actor: User, member_id: int) -> None:
    with transaction():
        item = db.session.get(BoardMember, member_id)
        if item is None:
            raise NotFound(_("Not found."))
        record_event(actor, "site.board_delete", item, item.name, name=item.name)
        photo = item.photo_hash
        db.session.delete(item)
    photo_store.release_photo(photo)


# --- news ------------------------------------------------------------------------------------------

@dataclass
class NewsData:
    title: str
    body_markdown: str
    summary: str = ""
    status: str = "draft"


def save_news(actor: User, data: NewsData, cover: tuple[str, bytes] | PendingPhoto | None = None,
              post_id: int | None = None) -> NewsPost:
    title = limited(data.title, 200, "title", _("Title"))
    summary = limited(data.summary, 300, "summary", _("Summary"))
    body = limited(data.body_markdown, MAX_BODY, "body", _("Text"))
    if len(title) < 3:
        raise DomainError(_("Write a title."), field="title")
    if data.status not in ("draft", "published"):
        raise DomainError(_("Unknown status."), field="status")
    stored = pending_photos.store_chosen(cover, actor.id, "cover")
    with transaction():
        post = db.session.get(NewsPost, post_id) if post_id else None
        if post_id and post is None:
            raise NotFound(_("Not found."))
        if post is None:
            base, slug, n = slugify(title), slugify(title), 2
            while db.session.scalar(select(NewsPost.id).where(NewsPost.slug == slug)):
                slug, n = f"{base}-{n}", n + 1
            post = NewsPost(slug=slug, title=title)
            db.session.add(post)
        post.title, post.summary = title, summary
        post.body_markdown = body
        post.body_html = render_markdown(post.body_markdown)
        if data.status == "published" and post.published_at is None:
            post.published_at = utcnow()
        post.status = data.status
        old_cover = post.cover_hash
        if stored:
            post.cover_hash, post.cover_width, post.cover_height = stored.content_hash, stored.width, stored.height
        db.session.flush()
        record_event(actor, "site.news", post, f"{post.title} ({post.status})", title=post.title)
    pending_photos.discard([cover])
    if old_cover != post.cover_hash:
        photo_store.release_photo(old_cover)
    return post


# Built once (the home page shows it), and only what a list shows: not the posts' bodies.
_PUBLISHED_NEWS = (select(NewsPost.slug, NewsPost.title, NewsPost.summary, NewsPost.cover_hash, NewsPost.cover_width,
                          NewsPost.cover_height, NewsPost.published_at)
                   .where(NewsPost.status == "published").order_by(NewsPost.published_at.desc())
                   .limit(bindparam("limit")).offset(bindparam("offset")))


def published_news(limit: int = 20, offset: int = 0) -> tuple:
    """The newest published posts as rows of what a list of them shows (slug, title, summary, cover,
    published_at); kept per worker until a post changes (marketplace.shared_values)."""
    return remembered(("news", limit, offset),
                      lambda: tuple(_read(_PUBLISHED_NEWS, {"limit": limit, "offset": offset})))


def news_post(slug: str) -> NewsPost | None:
    return db.session.scalar(select(NewsPost).where(NewsPost.slug == slug, NewsPost.status == "published"))


def all_news() -> list[NewsPost]:
    return list(db.session.scalars(select(NewsPost).order_by(NewsPost.created_at.desc())))
