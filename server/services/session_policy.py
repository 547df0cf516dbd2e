"""The office setting of staff idle timeouts (issue 13): ``office.settings["security"]``
``idle_timeout_min`` (every role but admins) and ``admin_idle_timeout_min`` (``admin``,
``system_admin``); read by ``server.web.sessions.idle_limits``."""
from __future__ import annotations

from sqlalchemy.orm import Session

from ..models import Office
from . import audit
from .actors import Actor
from .errors import ValidationError

MAX_MINUTES = 7 * 24 * 60  # a week: beyond that a session hardly "times out"


def save_idle_limits(session: Session, office_id: int, *, idle_min: int | None = None,
                     admin_idle_min: int | None = None, actor: Actor) -> dict:
    """Set the office's idle timeouts in minutes (None: leave that one as it is); returns
    the office's new ``settings["security"]``. Audited ``office.security``. Raises
    ValidationError for an unknown office, a value not a whole number from 1 to
    ``MAX_MINUTES``, or an admin limit longer than the staff limit."""
    office = session.get(Office, office_id)
    if office is None:
        raise ValidationError(f"unknown office {office_id}", field="office")
    security = dict((office.settings or {}).get("security") or {})
    for field, value in (("idle_timeout_min", idle_min), ("admin_idle_timeout_min", admin_idle_min)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_MINUTES:
            raise ValidationError(f"{field} must be a whole number of minutes from 1 to {MAX_MINUTES}", field=field)
        security[field] = value
    staff, admin = security.get("idle_timeout_min"), security.get("admin_idle_timeout_min")
    if isinstance(staff, int) and isinstance(admin, int) and admin > staff:
        raise ValidationError("the admins' idle timeout may not be longer than the staff's",
                              field="admin_idle_timeout_min")
    office.settings = {**(office.settings or {}), "security": security}
    session.flush()
    audit.record(session, actor, "office.security", "office", office.id, office_id=office.id, data=security)
    return security
