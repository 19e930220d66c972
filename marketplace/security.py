"""Route-level permission declarations.

Every view function carries exactly one declaration, readable as `view.access`:

- `@public`                     -> ("public",): anyone, signed in or not (storefront, sign-in, webhooks);
- `@signed_in`                  -> ("signed_in",): any signed-in account (change password, sign out);
- `@roles_required("kasir", …)` -> ("kasir", …): signed-in accounts having one of those roles.

A URL whose methods need different rights is two endpoints (`@bp.get` and `@bp.post`), each with its own
declaration. Object-level rules (a member edits only their own product) stay in the services and helpers.
tests/test_permissions.py walks `app.url_map` and fails for a view without a declaration, or one that
answers a role outside it.
"""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user

from .extensions import login_manager

PUBLIC = "public"
SIGNED_IN = "signed_in"


def declared_access(view) -> tuple[str, ...] | None:
    """The declaration on `view`, or None when it has none."""
    return getattr(view, "access", None)


def public(view):
    """Anyone may use the route, including anonymous visitors."""
    view.access = (PUBLIC,)
    return view


def signed_in(view):
    """Any signed-in account may use the route; anonymous visitors are sent to the sign-in page."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

    wrapped.access = (SIGNED_IN,)
    return wrapped


def roles_required(*roles: str):
    """Allow the route only to signed-in users having one of `roles`.

    Anonymous users are sent to the sign-in page; signed-in users with another role get 403.
    """
    if not roles or PUBLIC in roles or SIGNED_IN in roles:
        raise ValueError("roles_required needs role names; use @public or @signed_in instead")

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = wrapped.access = tuple(roles)
        return wrapped

    return decorator
