"""Catalog rules: who may manage which product, product lifecycle, photos, categories.

Every function here owns its transaction (it commits on success and rolls back on failure), except
`register_product_for_intake`, which runs inside the gerai intake's transaction.
"""
from __future__ import annotations

from marketplace.i18n import gettext as _

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from marketplace import pending_photos
from marketplace import photos as photo_store
from marketplace.audit import record_event
from marketplace.errors import DomainError, PermissionDenied
from marketplace.extensions import db
from marketplace.transaction import transaction
from marketplace.models import ROLE_KASIR, ROLE_MEMBER, ROLE_PENGURUS, Member, User
from marketplace.text import limited, slugify
from marketplace.timeutil import utcnow

from .models import MAX_DESCRIPTION, MAX_PHOTOS, MAX_SKU, MAX_UNIT, STATUS_PUBLISHED, STATUSES, Category, Product, ProductPhoto, SearchOutbox
from .search import drain_outbox_quietly, queue_reindex

MAX_PRICE = 1_000_000_000



@dataclass
class ProductData:
    name: str
    price: int
    unit: str
    description: str = ""
    category_id: int | None = None
    status: str = "draft"
    sku: str | None = None  # the member's own product code; None: none


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


# --- permissions -------------------------------------------------------------------------------

def can_manage_product(user: User, product: Product) -> bool:
    if user.has_role(ROLE_PENGURUS):
        return True
    return user.has_role(ROLE_MEMBER) and user.member is not None and product.member_id == user.member.id


def _require_manage(user: User, product: Product) -> None:
    if not can_manage_product(user, product):
        raise PermissionDenied(_("You may not change this product."))


def owner_for_new_product(user: User, member_id: int | None) -> Member:
    """Members create products for themselves; pengurus chooses the member (their own business too)."""
    if user.has_role(ROLE_PENGURUS):
        member = db.session.get(Member, member_id) if member_id else None
        if member is None:
            raise DomainError(_("Choose the business that owns the product."), field="member_id")
        return member
    if user.has_role(ROLE_MEMBER):
        if user.member is None:
            raise DomainError(_("This account is not linked to a business profile yet."))
        return user.member
    raise PermissionDenied(_("You may not create products."))


# --- validation --------------------------------------------------------------------------------

def _clean(data: ProductData) -> ProductData:
    name = (data.name or "").strip()
    if not name:
        raise DomainError(_("The product name is required."), field="name")
    if len(name) > 200:
        raise DomainError(_("The product name has at most 200 characters."), field="name")
    if not isinstance(data.price, int) or isinstance(data.price, bool):
        raise DomainError(_("The price must be a whole number of Rupiah."), field="price")
    if data.price <= 0 or data.price > MAX_PRICE:
        raise DomainError(_("The price must be more than Rp0."), field="price")
    unit = limited(data.unit, MAX_UNIT, "unit", _("Unit"))
    if not unit:
        raise DomainError(_("The unit is required, e.g. pcs or bungkus 250 g."), field="unit")
    if data.status not in STATUSES:
        raise DomainError(_("Unknown product status."), field="status")
    if data.category_id is not None and db.session.get(Category, data.category_id) is None:
        raise DomainError(_("Category not found."), field="category_id")
    description = limited(data.description, MAX_DESCRIPTION, "description", _("Description"))
    sku = limited(data.sku, MAX_SKU, "sku", _("Product code")) or None
    return ProductData(name=name, price=data.price, unit=unit, description=description,
                       category_id=data.category_id, status=data.status, sku=sku)


def _check_sku_free(member_id: int, sku: str | None, product_id: int | None = None) -> None:
    """A member's product codes are hers alone and unique (in any case: the import matches them so)."""
    if not sku:
        return
    taken = select(Product.name).where(Product.member_id == member_id, func.lower(Product.sku) == sku.lower())
    if product_id is not None:
        taken = taken.where(Product.id != product_id)
    name = db.session.scalar(taken.limit(1))
    if name is not None:
        raise DomainError(_("The code %(sku)s is already used for “%(name)s”. Choose another code.", sku=sku,
                            name=name), field="sku")


def _flush_refusing_a_taken_sku(sku: str | None) -> None:
    """Flush; two saves of the same new code at the same moment (in any letter case): the second is refused
    by the unique index products (member_id, lower(sku)) and told so like the first check would have."""
    try:
        db.session.flush()
    except IntegrityError as exc:
        if sku and "sku" in str(exc.orig).lower():
            raise DomainError(_("The code %(sku)s was just given to another product. Choose another code.",
                                sku=sku), field="sku") from exc
        raise


def _unique_slug(model, base: str) -> str:
    slug, n = base, 2
    while db.session.scalar(select(model.id).where(model.slug == slug)):
        slug, n = f"{base}-{n}", n + 1
    return slug


def _store_uploads(actor: User, uploads: list[Upload], existing: int,
                   kept: list[pending_photos.PendingPhoto]) -> list[photo_store.StoredPhoto]:
    """Validate and store every upload before anything is written to the database (an empty file is
    refused by name, never skipped); photos kept from a failed submit come first, already validated."""
    if existing + len(kept) + len(uploads) > MAX_PHOTOS:
        raise DomainError(_("At most %(n)d photos per product.", n=MAX_PHOTOS), field="photos")
    return ([pending_photos.store(k, actor.id, "photos") for k in kept]
            + [photo_store.store_upload(upload.data, upload.filename, "photos") for upload in uploads])


def _attach(product: Product, stored: list[photo_store.StoredPhoto]) -> None:
    next_pos = max((p.position for p in product.photos), default=-1) + 1
    for i, s in enumerate(stored):
        product.photos.append(ProductPhoto(position=next_pos + i, content_hash=s.content_hash,
                                           original_ext=s.original_ext, width=s.width, height=s.height))


# --- product lifecycle -------------------------------------------------------------------------

class SameNameExists(DomainError):
    """The business already has a product of that name: the form asks before making a second one."""


def _ask_before_a_second_product_named(member: Member, name: str, same_name_ok: bool) -> None:
    """Two products of one business with the same name look identical at the counter and at intake, so
    goods could be received onto the wrong one: creating such a twin needs a yes."""
    if same_name_ok:
        return
    twin = db.session.scalar(select(Product.id).where(Product.member_id == member.id,
                                                      func.lower(Product.name) == name.strip().lower()).limit(1))
    if twin is not None:
        raise SameNameExists(_("%(business)s already has a product named “%(name)s”. To make another one "
                               "anyway, tick “Yes, another product with this name” and save again.",
                               business=member.business_name, name=name.strip()), field="name")


def create_product(actor: User, data: ProductData, uploads: list[Upload] = (), member_id: int | None = None,
                   kept: list[pending_photos.PendingPhoto] = (), same_name_ok: bool = False) -> Product:
    """`kept`: photos kept from an earlier failed submit of the same form (see marketplace.pending_photos).
    A second product with a name the business already uses needs `same_name_ok`."""
    with transaction(after_commit=drain_outbox_quietly):
        owner = owner_for_new_product(actor, member_id)
        data = _clean(data)
        _ask_before_a_second_product_named(owner, data.name, same_name_ok)
        _check_sku_free(owner.id, data.sku)
        product = Product(member=owner, name=data.name, slug=_unique_slug(Product, slugify(data.name)),
                          description=data.description, price=data.price, unit=data.unit,
                          category_id=data.category_id, status=data.status, sku=data.sku,
                          published_at=utcnow() if data.status == STATUS_PUBLISHED else None)
        db.session.add(product)
        _flush_refusing_a_taken_sku(data.sku)  # before the photos are stored: a refusal leaves no files
        _attach(product, _store_uploads(actor, list(uploads), 0, list(kept)))
        db.session.flush()
        queue_reindex(product)
        record_event(actor, "product.create", product, f"{product.name} price={product.price} status={product.status}",
                     product=product.name, price=product.price)
    pending_photos.discard(list(kept))
    return product


def register_product_for_intake(actor: User, member_id: int | None, name: str, price: int, unit: str,
                                category_id: int | None = None, same_name_ok: bool = False) -> Product:
    """Gerai staff register a product a member brought in that is not in the catalog yet. It starts as
    a draft: sellable at the counter at once; the member adds photos and publishes it.

    Runs inside the caller's transaction (the intake registers the product and receives its first lot
    all or nothing: `consignment.services.receive_lot`); the caller drains the search outbox after its
    commit."""
    if not actor.has_role(ROLE_PENGURUS, ROLE_KASIR):
        raise PermissionDenied(_("You may not create products."))
    member = db.session.get(Member, member_id) if member_id is not None else None
    if member is None:
        raise DomainError(_("Choose the business that owns the product."), field="member_id")
    data = _clean(ProductData(name=name, price=price, unit=unit, category_id=category_id, status="draft"))
    _ask_before_a_second_product_named(member, data.name, same_name_ok)
    product = Product(member=member, name=data.name, slug=_unique_slug(Product, slugify(data.name)),
                      price=data.price, unit=data.unit, category_id=data.category_id, status=data.status)
    db.session.add(product)
    db.session.flush()
    queue_reindex(product)
    record_event(actor, "product.create", product, f"{product.name} price={product.price} (intake)",
                 product=product.name, price=product.price)
    return product


def update_product(actor: User, product: Product, data: ProductData, uploads: list[Upload] = (),
                   kept: list[pending_photos.PendingPhoto] = ()) -> Product:
    with transaction(after_commit=drain_outbox_quietly):
        _require_manage(actor, product)
        data = _clean(data)
        _check_sku_free(product.member_id, data.sku, product.id)
        before = f"{product.name} price={product.price} status={product.status}"
        product.name, product.description = data.name, data.description
        product.price, product.unit, product.category_id = data.price, data.unit, data.category_id
        product.sku = data.sku
        _set_status(product, data.status)
        _flush_refusing_a_taken_sku(data.sku)  # before the photos are stored: a refusal leaves no files
        _attach(product, _store_uploads(actor, list(uploads), len(product.photos), list(kept)))
        queue_reindex(product)
        record_event(actor, "product.update", product, f"{before} -> {product.name} price={product.price} "
                                                       f"status={product.status}", product=product.name,
                     price=product.price)
    pending_photos.discard(list(kept))
    return product


def _set_status(product: Product, status: str) -> None:
    if status not in STATUSES:
        raise DomainError(_("Unknown product status."), field="status")
    if status == STATUS_PUBLISHED and product.published_at is None:
        product.published_at = utcnow()
    product.status = status


def change_status(actor: User, product: Product, status: str) -> Product:
    with transaction(after_commit=drain_outbox_quietly):
        _require_manage(actor, product)
        before = product.status
        _set_status(product, status)
        queue_reindex(product)
        record_event(actor, "product.status", product, f"{before} -> {status}", product=product.name, status=status)
    return product


# --- photos ------------------------------------------------------------------------------------

def _photo_of(product: Product, photo_id: int) -> ProductPhoto:
    for photo in product.photos:
        if photo.id == photo_id:
            return photo
    raise DomainError(_("Photo not found."))


def _renumber(product: Product, ordered: list[ProductPhoto]) -> None:
    # Two steps so the (product_id, position) unique constraint never sees a duplicate.
    for i, photo in enumerate(ordered):
        photo.position = -(i + 1)
    db.session.flush()
    for i, photo in enumerate(ordered):
        photo.position = i


def move_photo(actor: User, product: Product, photo_id: int, offset: int) -> None:
    with transaction(after_commit=drain_outbox_quietly):
        _require_manage(actor, product)
        ordered = sorted(product.photos, key=lambda p: p.position)
        photo = _photo_of(product, photo_id)
        i = ordered.index(photo)
        j = min(max(i + offset, 0), len(ordered) - 1)
        ordered.insert(j, ordered.pop(i))
        _renumber(product, ordered)
        record_event(actor, "product.photo_move", product, f"photo {photo_id} -> position {j}",
                     product=product.name)


def delete_photo(actor: User, product: Product, photo_id: int) -> None:
    with transaction(after_commit=drain_outbox_quietly):
        _require_manage(actor, product)
        photo = _photo_of(product, photo_id)
        content_hash = photo.content_hash
        product.photos.remove(photo)
        db.session.flush()
        _renumber(product, sorted(product.photos, key=lambda p: p.position))
        record_event(actor, "product.photo_delete", product, f"photo {photo_id} ({content_hash[:12]})",
                     product=product.name)
    photo_store.release_photo(content_hash)


# --- categories --------------------------------------------------------------------------------

def _clean_category_name(name: str, category_id: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise DomainError(_("The category name is required."), field="name")
    clash = select(Category.id).where(func.lower(Category.name) == name.lower())
    if category_id is not None:
        clash = clash.where(Category.id != category_id)
    if db.session.scalar(clash):
        raise DomainError(_("A category with this name already exists."), field="name")
    return name


def create_category(actor: User, name: str) -> Category:
    with transaction():
        name = _clean_category_name(name)
        position = (db.session.scalar(select(func.max(Category.position))) or 0) + 1
        category = Category(name=name, slug=_unique_slug(Category, slugify(name)), position=position)
        db.session.add(category)
        db.session.flush()
        record_event(actor, "category.create", category, name, name=name)
    return category


def rename_category(actor: User, category: Category, name: str) -> Category:
    with transaction(after_commit=drain_outbox_quietly):
        name = _clean_category_name(name, category.id)
        before = category.name
        category.name = name
        for product_id in db.session.scalars(select(Product.id).where(Product.category_id == category.id)):
            db.session.add(SearchOutbox(product_id=product_id))
        record_event(actor, "category.rename", category, f"{before} -> {name}", before=before, name=name)
    return category


def list_categories() -> list[Category]:
    return list(db.session.scalars(select(Category).order_by(Category.position, Category.name)))
