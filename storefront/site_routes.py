"""Public microsite pages, sitemap and robots; and the pengurus' editor for them (/admin/situs)."""
from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from marketplace.i18n import gettext as _
from marketplace.i18n import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import FileField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from catalog.models import STATUS_PUBLISHED, Product
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.forms import select_choices
from marketplace.models import ROLE_PENGAWAS, ROLE_PENGURUS, Member
from marketplace import pending_photos
from marketplace.security import public, roles_required
from marketplace.views import absolute_url, show_domain_error

from .page_cache import cached_page
from . import microsite
from .microsite import MAX_BODY
from .models import BoardMember, NewsPost
from .routes import bp


class PageForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(_l("Text (Markdown: **bold**, lists with -, links [text](https://…))"),
                         validators=[Optional(), Length(max=MAX_BODY)])


class BoardMemberForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    position = StringField(_l("Position"), validators=[DataRequired(), Length(max=200)])
    body = SelectField(_l("Body"), choices=select_choices([("pengurus", _l("Board (pengurus)")),
                                                                      ("pengawas", _l("Supervisors (pengawas)"))]))
    position_order = IntegerField(_l("Order"), default=0, validators=[Optional()])
    photo = FileField(_l("Photo"))


class NewsForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    summary = StringField(_l("Summary (for the list and link previews)"), validators=[Optional(), Length(max=300)])
    body = TextAreaField(_l("Text (Markdown)"), validators=[Optional(), Length(max=MAX_BODY)])
    status = SelectField(_l("Status"), choices=select_choices([("draft", _l("Draft (not shown)")),
                                                               ("published", _l("Published"))]))
    cover = FileField(_l("Cover photo"))


# --- public pages ----------------------------------------------------------------------------------

def _content_page(key: str, template: str = "storefront/page.html", **extra):
    return render_template(template, page=microsite.page(key), key=key, **extra)


@bp.get("/tentang")
@public
@cached_page
def about():
    return _content_page("tentang", "storefront/about.html")


@bp.get("/pengurus")
@public
@cached_page
def board_page():
    return render_template("storefront/board.html", board=microsite.board())


@bp.get("/unit-usaha")
@public
@cached_page
def business_units():
    return _content_page("unit-usaha")


@bp.get("/potensi-desa")
@public
@cached_page
def village_potential():
    return _content_page("potensi-desa")


@bp.get("/kontak")
@public
@cached_page
def contact():
    return _content_page("kontak", "storefront/contact.html")


@bp.get("/berita")
@public
@cached_page
def news_list():
    return render_template("storefront/news_list.html", posts=microsite.published_news(50))


@bp.get("/berita/<slug>")
@public
@cached_page
def news_detail(slug: str):
    post = microsite.news_post(slug) or abort(404)
    return render_template("storefront/news.html", post=post,
                           canonical=absolute_url("storefront.news_detail", slug=post.slug))


@bp.get("/robots.txt")
@public
@cached_page
def robots():
    lines = ["User-agent: *", "Disallow: /kelola/", "Disallow: /gerai/", "Disallow: /admin/", "Disallow: /pesanan/",
             "Disallow: /keranjang", "Disallow: /checkout", "Disallow: /masuk",
             f"Sitemap: {absolute_url('storefront.sitemap')}"]
    return Response("\n".join(lines) + "\n", mimetype="text/plain")


@bp.get("/sitemap.xml")
@public
@cached_page
def sitemap():
    from markupsafe import escape

    urls = [absolute_url(endpoint) for endpoint in (
        "storefront.home", "storefront.products", "storefront.about", "storefront.board_page",
        "storefront.business_units", "storefront.village_potential", "storefront.news_list", "storefront.contact",
        "storefront.transparency")]
    for slug, updated in db.session.execute(select(Product.slug, Product.updated_at)
                                            .where(Product.status == STATUS_PUBLISHED).order_by(Product.id)):
        urls.append((absolute_url("storefront.product_detail", slug=slug), updated))
    for (slug,) in db.session.execute(select(Member.slug).where(Member.active.is_(True)).order_by(Member.id)):
        urls.append(absolute_url("storefront.member_page", slug=slug))
    for slug, published in db.session.execute(select(NewsPost.slug, NewsPost.published_at)
                                              .where(NewsPost.status == "published")):
        urls.append((absolute_url("storefront.news_detail", slug=slug), published))
    body = ['<?xml version="1.0" encoding="UTF-8"?>', '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for item in urls:
        loc, lastmod = item if isinstance(item, tuple) else (item, None)
        body.append(f"<url><loc>{escape(loc)}</loc>" + (f"<lastmod>{lastmod:%Y-%m-%d}</lastmod>" if lastmod else "")
                    + "</url>")
    body.append("</urlset>")
    return Response("\n".join(body), mimetype="application/xml")


# --- the pengurus' editor --------------------------------------------------------------------------

@bp.get("/admin/situs")
@roles_required(ROLE_PENGURUS, ROLE_PENGAWAS)
def site_admin():
    return render_template("storefront/admin_site.html", pages=microsite.PAGE_KEYS, board=microsite.board(),
                           news=microsite.all_news())


@bp.route("/admin/situs/halaman/<key>", methods=["GET", "POST"])
@roles_required(ROLE_PENGURUS)
def site_page_edit(key: str):
    if key not in microsite.PAGE_KEYS:
        abort(404)
    existing = microsite.page(key)
    form = PageForm(data={"title": existing.title if existing else microsite.PAGE_KEYS[key],
                          "body": existing.body_markdown if existing else ""})
    if form.validate_on_submit():
        microsite.save_page(current_user, key, form.title.data, form.body.data or "")
        flash(_("Saved."), "success")
        return redirect(url_for("storefront.site_admin"))
    return render_template("storefront/admin_form.html", form=form, title=microsite.PAGE_KEYS[key], multipart=False)


@bp.route("/admin/situs/pengurus/baru", methods=["GET", "POST"], defaults={"member_id": None})
@bp.route("/admin/situs/pengurus/<int:member_id>", methods=["GET", "POST"])
@roles_required(ROLE_PENGURUS)
def site_board_edit(member_id: int | None):
    item = db.session.get(BoardMember, member_id) if member_id else None
    if member_id and item is None:
        abort(404)
    form = BoardMemberForm(obj=item)
    if request.method == "POST" and request.form.get("delete") and item:
        microsite.delete_board_member(current_user, item.id)
        flash(_("Removed."), "success")
        return redirect(url_for("storefront.site_admin"))
    chosen, kept = pending_photos.one_photo(form.photo)
    if form.validate_on_submit():
        try:
            microsite.save_board_member(current_user, microsite.BoardMemberData(
                name=form.name.data, position=form.position.data, body=form.body.data,
                position_order=form.position_order.data or 0), chosen, member_id)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("storefront.site_admin"))
    return render_template("storefront/admin_form.html", form=form, multipart=True, deletable=item is not None,
                           title=_("Board member"), kept=pending_photos.keep_one(chosen, kept, form.photo))


@bp.route("/admin/situs/berita/baru", methods=["GET", "POST"], defaults={"post_id": None})
@bp.route("/admin/situs/berita/<int:post_id>", methods=["GET", "POST"])
@roles_required(ROLE_PENGURUS)
def site_news_edit(post_id: int | None):
    post = db.session.get(NewsPost, post_id) if post_id else None
    if post_id and post is None:
        abort(404)
    form = NewsForm(data={"title": post.title, "summary": post.summary, "body": post.body_markdown,
                          "status": post.status} if post else None)
    chosen, kept = pending_photos.one_photo(form.cover)
    if form.validate_on_submit():
        try:
            saved = microsite.save_news(current_user, microsite.NewsData(
                title=form.title.data, summary=form.summary.data or "", body_markdown=form.body.data or "",
                status=form.status.data), chosen, post_id)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("storefront.site_news_edit", post_id=saved.id))
    return render_template("storefront/admin_form.html", form=form, multipart=True, title=_("News"),
                           kept=pending_photos.keep_one(chosen, kept, form.cover),
                           preview=url_for("storefront.news_detail", slug=post.slug) if post and post.status == "published" else None)
