"""The cooperative running this deployment (one per deployment for now)."""
from __future__ import annotations

from flask import g
from sqlalchemy import select

from .extensions import db
from .models import Cooperative


_FIRST = select(Cooperative).order_by(Cooperative.id).limit(1)  # built once: every page asks


def current_cooperative() -> Cooperative | None:
    if "cooperative" not in g:
        g.cooperative = db.session.scalar(_FIRST)
    return g.cooperative
