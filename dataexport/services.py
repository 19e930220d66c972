"""Recording who downloaded the cooperative's data (the export holds members' phone numbers and bank
accounts): one audit event per download, committed before the first byte is sent."""
from __future__ import annotations

from marketplace.i18n import gettext as _

from marketplace.audit import record_event
from marketplace.errors import PermissionDenied
from marketplace.models import ROLE_PENGAWAS, ROLE_PENGURUS, User
from marketplace.transaction import transaction

FORMATS = ("xlsx", "zip")


def record_export(actor: User | None, fmt: str) -> None:
    """`actor` None: the server's own command line (`flask export-data`)."""
    if actor is not None and not actor.has_role(ROLE_PENGURUS, ROLE_PENGAWAS):
        raise PermissionDenied(_("Only pengurus and pengawas can download the cooperative's data."))
    with transaction():
        record_event(actor, "data.export", None, fmt if actor is not None else f"{fmt} (command line)",
                     format=fmt.upper())
