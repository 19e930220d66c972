"""Route-level permission declarations."""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user

from .extensions import login_manager


def roles_required(*roles: str):
    """Allow the route only to signed-in users having one of `roles`.

    Anonymous users are sent to the sign-in page; signed-in users with another role get 403.
    """

    def decorator(view):
        view.allowed_roles = roles

        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
