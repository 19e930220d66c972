"""The cooperative running this deployment (one per deployment for now)."""
from __future__ import annotations

from flask import g
from sqlalchemy import select

from .extensions import db
from .models import Cooperative


def current_cooperative() -> Cooperative | None:
    if "cooperative" not in g:
        g.cooperative = db.session.scalar(select(Cooperative).order_by(Cooperative.id).limit(1))
    return g.cooperative
