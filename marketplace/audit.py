"""Audit trail: domain services call record_event inside their own transaction."""
from __future__ import annotations

from flask import has_request_context, request

from .extensions import db
from .models import AuditEvent, User


def record_event(actor: User | None, action: str, obj, summary: str = "") -> AuditEvent:
    """Add an audit event to the current session; the calling service commits it with its change."""
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        action=action,
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=getattr(obj, "id", None),
        summary=summary[:2000],
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    return event
