"""What the file (permohonan) operations share: the application in the caller's office
scope, the 409 of a stale version, the chain action run at the caller's version, and the
worklist's role (``api.applications``, ``api.pickup``, ``api.activation``)."""
from __future__ import annotations

from typing import Callable

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Application, Counter, Device, DeviceKind, Office, Role, utcnow
from ..security import current_actor, require_office
from ..services.activation import cards
from ..services.applications import STALE, control_card, register_application
from ..services.applications.card_gate import has_activation
from ..services.errors import InvalidState, NotFound, VersionConflict
from ..services.notices.status import application_notices
from ..services.notices.subscriber import on_application_changed
from ..services.queue.access import current_ticket
from .helpers import transaction
from .presenters import application_detail
from .resi import resi_links

#: The worklist's ``?role=`` beyond the staff roles: every step.
ALL = "all"


def application_for_staff(session: Session, application_id: int) -> Application:
    """The application (permohonan) ``application_id`` for a staff request: 404 when missing,
    403 when it belongs to another office than the caller's (``office_allowed``)."""
    app = session.get(Application, application_id)
    if app is None:
        raise NotFound(key="api.files.application_not_found")
    require_office(app.office_id)
    return app


def version_conflict(application_id: int, expected: int) -> VersionConflict:
    """The 409 for a stale ``expected`` version, naming the application's current one."""
    with transaction() as s:
        current = s.scalar(select(Application.version).where(Application.id == application_id))
    return VersionConflict(key="api.files.version_conflict", params={"current": current, "expected": expected},
                           current_version=current, expected_version=expected)


def run_at_version(application_id: int, expected: int, run: Callable[[Session], dict]) -> dict:
    """``run(session)``'s answer, in one transaction; the service's stale-version refusal
    (InvalidState ``STALE``) becomes :func:`version_conflict` (409, the current version)."""
    try:
        with transaction() as s:
            return run(s)
    except InvalidState as exc:
        if exc.message != STALE:
            raise
    raise version_conflict(application_id, expected)


def chain_action(application_id: int, action, expected: int, **kwargs) -> dict:
    """``{"application": detail}`` after the chain ``action`` (approve, return for
    correction, hand over) at the caller's ``expected`` version; a file that becomes ready or
    returns to the counter queues the citizen's notice in the same transaction
    (transactional outbox: a crash can never lose it)."""
    now = utcnow()

    def run(s: Session) -> dict:
        application_for_staff(s, application_id)
        app = action(s, application_id, actor=current_actor(), expected_version=expected, now=now, **kwargs)
        on_application_changed(s, app, providers=current_app.extensions["loket_notice_providers"], now=now)
        return {"application": application_detail(s, app, now)}

    return run_at_version(application_id, expected, run)


def worklist_role(asked: str | None) -> str:
    """The worklist's role: ``asked``, else the caller's role (managers and admins: all)."""
    role = asked or current_actor().role
    if role in (Role.MANAGER.value, Role.ADMIN.value) and not asked:
        return ALL
    return role


def register_at_counter(s: Session, counter_id: int, data: dict, now) -> dict:
    """Register the file of the ticket called or served at counter ``counter_id`` (404 no
    such counter, 403 another office, 409 no ticket there): ``{"application", "resi"}``."""
    counter = s.get(Counter, counter_id)
    if counter is None:
        raise NotFound(key="api.files.counter_not_found")
    require_office(counter.office_id)
    ticket = current_ticket(s, counter)
    if ticket is None:
        raise InvalidState(key="api.files.no_ticket_at_counter", params={"number": counter.number})
    app = register_application(s, ticket.id, nik=data["nik"], name=data["name"], phone=data.get("phone"),
                               email=data.get("email"), confirmed=data["confirmed"], case=data["case"],
                               actor=current_actor(), now=now)
    office = s.get(Office, app.office_id)
    return {"application": application_detail(s, app, now), "resi": resi_links(office, app)}


def card_readers(s: Session, office_id: int) -> list[dict]:
    """The office's active card reader stations [{"id", "name"}] (for the bind dialog)."""
    return [{"id": d.id, "name": d.name} for d in s.scalars(select(Device).where(
        Device.office_id == office_id, Device.kind == DeviceKind.ACTIVATION.value, Device.active.is_(True)))]


def file_view(s: Session, app: Application, now) -> dict:
    """One file for staff: ``{"application", "control_card", "notices"}``, and for a KTP-el
    (a service with an ``activate`` step, issue 5) ``card`` (bound at print, null before)
    and ``card_readers``."""
    view = {"application": application_detail(s, app, now), "control_card": control_card(s, app.id, now=now),
            "notices": application_notices(s, app.id)}
    if has_activation(app):
        view["card"] = cards.binding_view(cards.binding_of(s, app.id))
        view["card_readers"] = card_readers(s, app.office_id)
    return view
