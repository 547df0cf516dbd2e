"""Intake at the counter: the requirements checklist and registering an application.

While a ticket is served, the officer checks the file against the service's requirements
(persyaratan) and, when nothing is missing, registers the application: a resi number, the
due date in working days, the SOP step list copied from the catalog, and the counter steps
written on the kartu kendali. See :func:`register_application` for how their minutes are
read from the ticket's times.
"""
from __future__ import annotations

import copy
import re
from datetime import datetime, timedelta
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ...db import is_postgres
from ...i18n.catalogs import LANGUAGES, translate
from ...models import (
    AT_COUNTER_STATUSES, Application, ApplicationSequence, ApplicationStatus, Service, Ticket, utcnow,
)
from ..actors import Actor
from ..clock import queue_day
from ..errors import Forbidden, InvalidState, NotFound, ValidationError
from ..nik import parse_nik
from ..queue.access import counter_for_action
from ..resi import resi_number
from .deadlines import due_date
from .records import ControlCard, minutes_between, record_transition
from .steps import CITIZEN, check_steps, counter_step_count, standard_minutes

_PHONE = re.compile(r"\+?[0-9]{8,15}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class RequirementsMissing(ValidationError):
    """The file lacks required documents; ``missing`` lists them (nothing was registered)."""

    code = "requirements_missing"

    KEY = "error.application.requirements_missing"

    def __init__(self, missing: list[dict]) -> None:
        self.missing = missing
        # The message ("Indonesian / English", as bilingual() writes it) with each language's items.
        super().__init__(" / ".join(self.text(lang) for lang in LANGUAGES), key=self.KEY, field="requirements",
                         missing=missing)

    def text(self, lang: str) -> str:
        """The message in ``lang``: the missing items in that language (their ``id`` or ``en``)."""
        items = "; ".join(m["en"] if lang == "en" else m["id"] for m in self.missing)
        return translate(self.KEY, lang, items=items)


def _cases(service: Service, case: str | Iterable[str] | None) -> list[str]:
    """The cases that apply (``when`` keys), checked against the service's requirements."""
    cases = [] if case is None else [case] if isinstance(case, str) else list(case)
    known = {r["when"] for r in service.requirements if r.get("when")}
    unknown = sorted(set(cases) - known)
    if unknown:
        raise ValidationError(key="error.application.unknown_case", params={"unknown": unknown, "known": sorted(known)},
                              field="case")
    return sorted(set(cases))


def _confirmed(service: Service, confirmed: Iterable[int | str]) -> set[int]:
    """Indexes of the confirmed items: an int is a position in the service's list, a str
    the item's Indonesian (``id``) or English (``en``) text. Unknown items are refused."""
    reqs, out = service.requirements, set()
    for item in confirmed or ():
        index = None
        if isinstance(item, int) and not isinstance(item, bool):
            index = item if 0 <= item < len(reqs) else None
        elif isinstance(item, str):
            index = next((i for i, r in enumerate(reqs) if item in (r["id"], r.get("en"))), None)
        if index is None:
            raise ValidationError(key="error.application.unknown_requirement", params={"item": item}, field="confirmed")
        out.add(index)
    return out


def checklist(service: Service, confirmed: Iterable[int | str], case: str | Iterable[str] | None = None) -> list[dict]:
    """The checklist as presented: every requirement of ``service`` with ``index``, ``id``,
    ``en``, ``when``, ``applies`` (unconditional, or its ``when`` is one of ``case``) and
    ``confirmed``. Raises ValidationError for an unknown case or requirement."""
    cases, done = _cases(service, case), _confirmed(service, confirmed)
    return [
        {"index": i, "id": r["id"], "en": r.get("en", r["id"]), "when": r.get("when"),
         "applies": not r.get("when") or r["when"] in cases, "confirmed": i in done}
        for i, r in enumerate(service.requirements)
    ]


def check_requirements(
    service: Service, confirmed: Iterable[int | str], case: str | Iterable[str] | None = None
) -> list[dict]:
    """The requirements of ``service`` that apply to ``case`` and are not in ``confirmed``.

    Conditional requirements (catalog ``when``: "first-time", "renewal", "lost" ...) apply
    only when ``case`` (one key or several) names them. Each missing item is a dict with
    ``index``, ``id`` (Indonesian text), ``en`` and ``when``; [] when the file is complete.
    """
    return _missing(checklist(service, confirmed, case))


def _missing(items: list[dict]) -> list[dict]:
    return [
        {k: item[k] for k in ("index", "id", "en", "when")}
        for item in items if item["applies"] and not item["confirmed"]
    ]


def clean_contact(name: str, phone: str | None, email: str | None) -> tuple[str, str, str]:
    """(name, phone, e-mail) cleaned: a name of 1-200 characters and a phone (WhatsApp) or
    an e-mail for notices. Raises ValidationError (field name, phone or email)."""
    name = " ".join((name or "").split())
    if not 1 <= len(name) <= 200:
        raise ValidationError(key="error.application.name_required", field="name")
    phone = re.sub(r"[\s\-().]", "", phone or "")
    if phone and not _PHONE.fullmatch(phone):
        raise ValidationError(key="error.application.phone_invalid", field="phone")
    email = (email or "").strip()
    if email and (len(email) > 200 or not _EMAIL.fullmatch(email)):
        raise ValidationError(key="error.application.email_invalid", field="email")
    if not phone and not email:
        raise ValidationError(key="error.application.contact_required", field="phone")
    return name, phone, email


def _next_resi_seq(session: Session, office_id: int, day) -> int:
    """Increment and return the office's resi sequence of ``day`` (one atomic upsert)."""
    insert = postgresql.insert if is_postgres(session) else sqlite.insert
    stmt = insert(ApplicationSequence).values(office_id=office_id, day=day, last_number=1).on_conflict_do_update(
        index_elements=["office_id", "day"], set_={"last_number": ApplicationSequence.last_number + 1},
    ).returning(ApplicationSequence.last_number)
    return session.execute(stmt).scalar_one()


def _split(steps: list[dict], start: datetime, end: datetime) -> list[tuple[dict, datetime, float]]:
    """Share the span ``start``-``end`` among ``steps`` in proportion to their standard
    minutes: (step, time it was done, minutes in it)."""
    span = max(end - start, timedelta(0))
    total = sum(standard_minutes(s) for s in steps)
    out, at = [], start
    for step in steps:
        share = span * (standard_minutes(step) / total) if total else span / len(steps)
        at += share
        out.append((step, at, share.total_seconds() / 60))
    return out


def counter_timeline(ticket: Ticket, steps: list[dict], now: datetime) -> list[tuple[dict, datetime, float]]:
    """(step, done at, minutes) for the counter steps, read from the ticket's times.

    The citizen's leading steps (submit, take a number) take from the call to the
    citizen's arrival at the counter (``started_at``; the call itself when the officer
    never pressed start); the counter steps after them share the time from the arrival to
    ``now`` in proportion to their standard minutes: only the total is measured, so each
    is late exactly when the counter work as a whole took longer than its standard.
    The queue wait before the call is no SOP step (it is reported on the first line).
    """
    called = ticket.called_at
    if called is None:  # never called: not at a counter
        raise InvalidState(key="error.application.ticket_not_at_counter",
                           params={"number": ticket.display_number, "status": ticket.status})
    arrived = ticket.started_at or called
    lead = 0
    while lead < len(steps) and steps[lead]["role"] == CITIZEN:
        lead += 1
    return _split(steps[:lead], called, arrived) + _split(steps[lead:], arrived, now)


def register_application(
    session: Session,
    ticket_id: int,
    *,
    nik: str,
    name: str,
    phone: str | None,
    email: str | None,
    confirmed: Iterable[int | str],
    case: str | Iterable[str] | None = None,
    actor: Actor,
    now: datetime | None = None,
) -> Application:
    """Register an application for the ticket served at the actor's counter.

    The ticket must be ``called`` or ``serving`` at a counter whose officer is ``actor``
    (admins: any counter), for a service of kind "application". ``nik`` is checked with
    ``parse_nik``; ``name`` is required, and a phone (WhatsApp) or an e-mail for notices.
    When a requirement that applies to ``case`` is not in ``confirmed`` (see
    :func:`check_requirements`), raises :class:`RequirementsMissing` and writes nothing.

    Otherwise the application gets a resi number, a due date ``completion_working_days``
    working days ahead (the office's calendar), a copy of the service's steps, and one
    kartu kendali line per counter step (see :func:`counter_timeline`); it then waits at
    the first step after them, ``in_progress``. Raises NotFound, Forbidden, InvalidState,
    ValidationError, RequirementsMissing.
    """
    now = now or utcnow()
    if actor.type != "staff":
        raise Forbidden(key="error.application.counter_staff_only")
    ticket = session.scalars(select(Ticket).where(Ticket.id == ticket_id).with_for_update()).first()
    if ticket is None:
        raise NotFound(key="error.application.ticket_not_found")
    if ticket.status not in AT_COUNTER_STATUSES or ticket.counter_id is None:
        raise InvalidState(key="error.application.ticket_not_at_counter",
                           params={"number": ticket.display_number, "status": ticket.status})
    first_called = ticket.first_called_at
    if first_called is None:  # called tickets have their first call: never called, not at a counter
        raise InvalidState(key="error.application.ticket_not_at_counter",
                           params={"number": ticket.display_number, "status": ticket.status})
    counter = counter_for_action(session, ticket.counter_id, actor, must_be_open=False)
    office, service = counter.office, ticket.service
    if service.kind != "application" or not service.completion_working_days:
        raise InvalidState(key="error.application.no_applications", params={"service": service.code})
    steps = copy.deepcopy(service.steps)
    check_steps(steps, service.code)
    day = queue_day(office, now)
    nik_info = parse_nik(nik, today=day)
    name, phone, email = clean_contact(name, phone, email)
    items = checklist(service, confirmed, case)
    missing = _missing(items)
    if missing:
        raise RequirementsMissing(missing)

    first = counter_step_count(steps)
    app = Application(
        office_id=office.id, service_id=service.id, ticket_id=ticket.id,
        resi_number=resi_number(office.code, service.letter, day, _next_resi_seq(session, office.id, day)),
        applicant_nik=nik_info.nik, applicant_name=name, phone=phone, email=email, cases=_cases(service, case),
        requirements=items, steps=steps, status=ApplicationStatus.IN_PROGRESS.value, step_index=first,
        step_code=steps[first]["code"], step_role=steps[first]["role"], step_entered_at=now, submitted_at=now,
        completion_working_days=service.completion_working_days,
        due_date=due_date(office, now, service.completion_working_days), created_by=actor.id,
    )
    session.add(app)
    session.flush()
    card = ControlCard(session, app, actor)
    for i, (step, at, minutes) in enumerate(counter_timeline(ticket, steps[:first], now)):
        data: dict[str, object] = {"ticket": ticket.display_number}
        if i == 0:
            data["queue_wait_minutes"] = round(minutes_between(ticket.issued_at, first_called) or 0, 2)
        card.write("register", step, steps[i + 1], at, minutes, data=data)
    record_transition(session, app, actor, "register", None, now,
                      {"ticket": ticket.display_number, "service": service.code, "step": app.step_code})
    return app
