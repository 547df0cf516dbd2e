"""Which moves a staff role may make on an AKAPELA contact at its stage (seed 001): the
forms a detail page offers. The moves themselves check the same rule
(``routing._open_contact``: open, at the stage, held by the role; an office or system
admin: any)."""
from __future__ import annotations

from ...models import ComplaintStatus
from ..actors import ADMIN_ROLES
from .stages import ESCALATES_TO, OFFICER


def actions_for(status: str, stage: str | None, holder_role: str | None, role: str | None) -> list[str]:
    """The moves ``role`` may make on a contact with ``status``, ``stage`` and
    ``holder_role``: none once closed or when another role holds it (an admin acts for any);
    the officer answers, escalates, routes and closes; a section head escalates (to the
    division head) and replies; any other holder replies."""
    if status == ComplaintStatus.CLOSED.value or (role not in ADMIN_ROLES and role != holder_role):
        return []
    if stage == OFFICER:
        return ["answer", "escalate", "route", "close"]
    return (["escalate"] if stage in ESCALATES_TO else []) + ["reply"]
