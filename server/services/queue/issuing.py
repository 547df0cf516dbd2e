"""Issuing and cancelling tickets.

A ticket is issued in four steps, in the caller's transaction:

1. :func:`look_ahead` (optional, before anything is locked): the people ahead of a ticket
   issued now and the ticket already issued for the request's ``request_id``, in one
   statement; the estimate is computed from it, before the number.
2. :func:`validate`: the rules that need no database (unknown or inactive service, office
   closed, bad priority, channel or request id).
3. :func:`insert_ticket`: the daily quota (``booking.daily``), the number and the ticket
   row, then the ``ticket.issued`` event. The number is taken with one atomic ``INSERT …
   ON CONFLICT DO UPDATE … RETURNING`` on the per-service day-sequence row (row lock on
   PostgreSQL, held until the commit; the write lock on SQLite, where every transaction is
   ``BEGIN IMMEDIATE``), so it is never duplicated or skipped however many processes issue
   at once; everything between it and the commit is a few inserts. On PostgreSQL the
   upsert and the ticket row are one statement (a data-modifying CTE), one round trip less
   under the lock.
4. the ticket's audit row (``audit.insert_rows``), which :func:`insert_ticket` returns
   unwritten so that the kiosk path writes it with its print job's row in one statement
   (``services.printing.issue_with_job``); :func:`issue_ticket` writes it alone.

Statements are Core, built once (bind parameters), with no ORM flush: a kiosk issue costs
the look-up, the number, the ticket row and the audit rows, 4 statements (3 on
PostgreSQL), plus the office event log's two at the commit (``services.stream_log``) and
SQLite's ``BEGIN IMMEDIATE``; ``tests/server/test_issue_cost.py`` counts them.
"""
from __future__ import annotations

import secrets
from datetime import date, datetime
from functools import lru_cache
from types import SimpleNamespace
from typing import cast as typed

from sqlalchemy import String, Table, bindparam, case, cast, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, make_transient_to_detached

from ..booking import daily
from ...models import Office, PriorityKind, Service, Ticket, TicketSequence, TicketStatus, utcnow
from .. import audit, events
from ..actors import Actor
from ..clock import epoch_ms, is_open, queue_day
from ..errors import InvalidState, NotFound, OfficeClosed, ServiceUnavailable, ValidationError
from .estimate import ahead_query
from .presenters import ticket_stream
from .rules import QueueRules

CHANNELS = ("kiosk", "web", "staff", "booking")
PRIORITY_KINDS = frozenset(p.value for p in PriorityKind)
TICKETS = typed(Table, Ticket.__table__)  # a mapped class's table (typed as any FromClause)
#: every column of a new ticket row but ``id`` (the insert binds them all)
COLUMNS = tuple(c.name for c in TICKETS.c if c.name != "id")


class NewTicket(SimpleNamespace):
    """A ticket row just inserted, as a plain object (no session, no ORM state): every
    column under ``Ticket``'s attribute names, ``service`` (the row it was issued for, maybe
    a detached cached one) and ``counter`` (None). What the presenters
    (``presenters.ticket_public``), the print job and the issue answer read."""

    @property
    def is_priority(self) -> bool:
        return self.priority_kind is not None


def format_number(letter: str, number: int) -> str:
    """The citizen-facing number: service letter + at least 3 digits (A001 ... A999, A1000)."""
    return f"{letter}{number:03d}"


@lru_cache(maxsize=None)
def _look_stmt():
    """(people ahead, id of the ticket of ``request_id`` or NULL): one SELECT of two scalar
    subqueries; binds office_id, service_id, day, sort_key, request_id."""
    earlier = select(TICKETS.c.id).where(TICKETS.c.office_id == bindparam("office_id"),
                                         TICKETS.c.request_id == bindparam("request_id"))
    return select(ahead_query().scalar_subquery(), earlier.scalar_subquery())


def look_ahead(session: Session, office_id: int, service_id: int, day: date, sort_key: int,
               request_id: str | None) -> tuple[int, int | None]:
    """(people ahead, earlier ticket id) for a ticket of ``service_id`` about to be issued
    with ``sort_key`` (epoch ms) on ``day``: the waiting tickets of the service and day that
    sort before it (``estimate.ahead_query``, as ``estimate_wait`` counts them), and the id
    of the ticket already issued in the office for ``request_id`` (None when there is none
    or no request id). One statement."""
    people, earlier = session.connection().execute(_look_stmt(), {
        "office_id": office_id, "service_id": service_id, "day": day, "sort_key": sort_key,
        "request_id": request_id}).one()
    return people or 0, earlier


@lru_cache(maxsize=None)
def _number_stmt(dialect: str):
    """The day-sequence upsert for ``dialect``: binds office_id, service_id, day; returns
    the new last_number (1 for the day's first ticket)."""
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(TicketSequence).values(
        office_id=bindparam("office_id"), service_id=bindparam("service_id"), day=bindparam("day"),
        last_number=1, call_count=0)
    return ins.on_conflict_do_update(
        index_elements=["office_id", "service_id", "day"], set_={"last_number": TicketSequence.last_number + 1},
    ).returning(TicketSequence.last_number)


@lru_cache(maxsize=None)
def _insert_stmt():
    """INSERT of one ticket row, every column bound by name (:data:`COLUMNS`), RETURNING id."""
    return insert(TICKETS).values({c: bindparam(c, type_=TICKETS.c[c].type) for c in COLUMNS}).returning(TICKETS.c.id)


@lru_cache(maxsize=None)
def _number_and_insert_pg():
    """PostgreSQL: the number upsert and the ticket row in one statement (a data-modifying
    CTE: ``WITH seq AS (INSERT … ON CONFLICT DO UPDATE … RETURNING last_number) INSERT INTO
    tickets … SELECT … FROM seq RETURNING id, number, display_number``), one round trip
    less while the sequence row is locked. Binds the :data:`COLUMNS` but number and
    display_number, and ``letter``; display_number is ``letter`` + the number padded to 3
    digits, as :func:`format_number`."""
    seq = _number_stmt("postgresql").cte("seq")
    number = seq.c.last_number
    digits = cast(number, String)
    display = bindparam("letter", type_=String) + case((number < 1000, func.lpad(digits, 3, "0")), else_=digits)
    columns = [c for c in COLUMNS if c not in ("number", "display_number")]
    rows = select(*(bindparam(c, type_=TICKETS.c[c].type) for c in columns), number, display).select_from(seq)
    return insert(TICKETS).from_select([*columns, "number", "display_number"], rows).returning(
        TICKETS.c.id, TICKETS.c.number, TICKETS.c.display_number)


def _number_and_insert(connection, values: dict, letter: str) -> int:
    """Take the next number of the ticket's service and day and insert the ticket row
    ``values`` (every :data:`COLUMNS` but number and display_number, which are set here);
    returns the ticket id. Two statements (SQLite), one (PostgreSQL: :func:`_number_and_insert_pg`)."""
    if connection.dialect.name == "postgresql":
        ticket_id, values["number"], values["display_number"] = connection.execute(
            _number_and_insert_pg(), {**values, "letter": letter}).one()
        return ticket_id
    values["number"] = number = connection.execute(_number_stmt(connection.dialect.name), {
        "office_id": values["office_id"], "service_id": values["service_id"], "day": values["day"]}).scalar_one()
    values["display_number"] = format_number(letter, number)
    return connection.execute(_insert_stmt(), values).scalar_one()


def validate(office: Office, service: Service | None, service_code: str, *, priority_kind: str | None,
             channel: str, request_id: str | None, now: datetime) -> Service:
    """Check a ticket may be issued; returns ``service``. Raises ValidationError (request id
    not 1-64 characters, unknown priority kind or channel), NotFound (``service`` None:
    no service ``service_code``), ServiceUnavailable (inactive), OfficeClosed (outside
    opening hours when the office enforces them, ``QueueRules.enforce_hours``)."""
    if request_id is not None and not (1 <= len(request_id) <= 64):
        raise ValidationError(key="error.ticket.request_id", field="request_id")
    if priority_kind is not None and priority_kind not in PRIORITY_KINDS:
        raise ValidationError(key="error.ticket.priority_kind", params={"kind": priority_kind}, field="priority_kind")
    if channel not in CHANNELS:
        raise ValidationError(key="error.ticket.channel", params={"channel": channel}, field="channel")
    if service is None:
        raise NotFound(key="error.service.not_found", params={"service": service_code}, field="service")
    if not service.active:
        raise ServiceUnavailable(key="error.service.unavailable", params={"service": service_code})
    if QueueRules.for_office(office).enforce_hours and not is_open(office, now):
        raise OfficeClosed(key="error.office.closed")
    return service


def insert_ticket(
    session: Session, office: Office, service: Service | None, service_code: str, *, actor: Actor,
    priority_kind: str | None = None, channel: str = "kiosk", request_id: str | None = None,
    device_id: int | None = None, sort_key: int | None = None, now: datetime, print_status: str | None = None,
) -> tuple[NewTicket, dict]:
    """Validate (:func:`validate`), take the daily quota's place (not for ``booking``: a
    booking took it when made), the number, and insert the ticket; publish
    ``ticket.issued`` after the commit. Returns (ticket, its audit row), the row NOT yet
    written: the caller writes it in this transaction (``audit.insert_rows``).

    ``office`` and ``service`` may be detached read-only rows (``booking.catalog_cache``):
    only their attributes are read. The ticket returned is a :class:`NewTicket` (no ORM
    object: building one costs more than the insert): enough for the presenters and the
    print job. ``print_status``: "queued" when the caller queues its print job in this
    transaction (written with the row, no UPDATE).
    Raises what :func:`validate` raises, and ServiceFullToday (``booking.daily``).
    """
    service = validate(office, service, service_code, priority_kind=priority_kind, channel=channel,
                       request_id=request_id, now=now)
    day = queue_day(office, now)
    values = {"public_id": secrets.token_urlsafe(12), "office_id": office.id, "service_id": service.id, "day": day,
              "transfer_seq": 0, "status": TicketStatus.WAITING.value, "priority_kind": priority_kind,
              "channel": channel, "sort_key": epoch_ms(now) if sort_key is None else int(sort_key),
              "skip_count": 0, "recall_count": 0, "eligible_after_calls": 0, "issued_at": now, "waiting_since": now,
              "first_called_at": None, "called_at": None, "started_at": None, "finished_at": None,
              "counter_id": None, "officer_id": None, "transferred_from_id": None, "end_reason": None,
              "request_id": request_id, "device_id": device_id, "print_status": print_status}
    if channel != "booking":
        daily.take(session, office, service, day)
    ticket_id = _number_and_insert(session.connection(), values, service.letter)
    ticket = NewTicket(id=ticket_id, service=service, counter=None, **values)
    row = audit.row(actor, "ticket.issue", "ticket", ticket_id, office_id=office.id, to_state=ticket.status, at=now,
                    data={"number": ticket.display_number, "service": service.code, "priority": priority_kind,
                          "channel": channel})
    events.publish_after_commit(
        session, events.DomainEvent(events.TICKET_ISSUED, office.id, {"ticket": ticket_stream(ticket)}))
    return ticket, row


def issue_ticket(
    session: Session,
    office: Office,
    service_code: str,
    *,
    actor: Actor,
    priority_kind: str | None = None,
    channel: str = "kiosk",
    request_id: str | None = None,
    device_id: int | None = None,
    sort_key: int | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Give the next number of ``service_code`` today and put the ticket in the queue;
    returns the ticket, persistent in ``session`` (its service loaded).

    The booking check-in, staff tools and tests call this; the kiosk tap takes the cheaper
    path of the module docstring. The rows are written as there (:func:`insert_ticket`,
    one ``audit.insert_rows``, no ORM flush) and the ``Ticket`` is then attached to the
    session as the persistent copy of its row (later changes to it flush as UPDATEs).

    ``device_id``: the kiosk issuing it (its printer prints and reprints the ticket).
    ``request_id`` (1-64 chars, optional) makes the call idempotent: a repeated request
    with the same id (a double tap, a retry after a lost answer) returns the ticket already
    issued instead of a second one (see :func:`find_by_request`).

    The number is the service letter plus the day's counter for that service and office,
    taken with one atomic upsert (row lock on PostgreSQL, write lock on SQLite), so it is
    never duplicated however many processes issue at once.

    ``priority_kind``: None or one of :class:`PriorityKind` values (lansia, disabilitas,
    ibu_hamil). ``channel``: kiosk, web, staff or booking. ``sort_key``: the ticket's
    place in queue order (epoch ms; default: now): a booking checked in is placed by its
    slot's start (``services.booking.checkin``).
    Raises NotFound (unknown service), ServiceUnavailable (inactive), OfficeClosed (outside
    opening hours when the office enforces them), ValidationError (bad priority/channel),
    ServiceFullToday (the office's daily quota of the service is used up:
    ``services.booking.daily``).
    """
    now = now or utcnow()
    if request_id is not None and 1 <= len(request_id) <= 64:
        existing = find_by_request(session, office.id, request_id)
        if existing is not None:
            return existing
    service = session.scalars(
        select(Service).where(Service.office_id == office.id, Service.code == service_code)
    ).first()
    session.flush()  # the rows the ticket refers to, if the caller made them in this transaction
    new, row = insert_ticket(session, office, service, service_code, actor=actor, priority_kind=priority_kind,
                             channel=channel, request_id=request_id, device_id=device_id, sort_key=sort_key, now=now)
    audit.insert_rows(session, [row])
    ticket = Ticket(**vars(new))
    make_transient_to_detached(ticket)  # the row is in the database: the object becomes its persistent copy
    session.add(ticket)
    return ticket


def find_by_request(session: Session, office_id: int, request_id: str) -> Ticket | None:
    """The ticket issued earlier for ``request_id`` in this office, or None."""
    return session.scalars(
        select(Ticket).where(Ticket.office_id == office_id, Ticket.request_id == request_id)
    ).first()


def cancel_ticket(
    session: Session, ticket_id: int, *, actor: Actor, reason: str = "cancelled", now: datetime | None = None
) -> Ticket:
    """Cancel a waiting ticket (citizen left, issued by mistake). Raises NotFound, InvalidState."""
    now = now or utcnow()
    ticket = session.get(Ticket, ticket_id, with_for_update=True)
    if ticket is None:
        raise NotFound(key="error.ticket.not_found")
    if ticket.status != TicketStatus.WAITING.value:
        raise InvalidState(key="error.ticket.cancel_waiting_only", params={"status": ticket.status})
    ticket.status = TicketStatus.CANCELLED.value
    ticket.finished_at = now
    ticket.end_reason = reason
    audit.record(session, actor, "ticket.cancel", "ticket", ticket.id, office_id=ticket.office_id,
                 from_state="waiting", to_state=ticket.status, data={"reason": reason}, at=now)
    events.publish_after_commit(
        session, events.DomainEvent(events.TICKET_CHANGED, ticket.office_id, {"ticket": ticket_stream(ticket)})
    )
    return ticket
