"""Taking one citizen's survey answers for one served ticket.

Rules (issue 7, PermenPANRB 14/2017): only a ticket that was served (status ``done``) is
surveyed; one response per ticket (a unique key on ``ticket_id``: a second answer, even at
the same instant, is refused and the first kept); all nine elements answered, each 1..4;
an optional comment of at most ``SURVEY_COMMENT_MAX`` characters (longer is refused, never
cut). Every response written is audited ("survey.submit") in its transaction.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ...db import is_postgres
from ...models import SURVEY_COMMENT_MAX, SurveyChannel, SurveyResponse, Ticket, TicketStatus, utcnow
from .. import audit
from ..actors import Actor
from ..errors import InvalidState, LoketError, ValidationError
from ..queue.presenters import iso
from .elements import ELEMENTS, SCALE


class SurveyNotServed(InvalidState):
    """The ticket was not served (still waiting, called or serving; skipped, cancelled,
    transferred): there is nothing to rate yet."""

    code = "survey_not_served"


class SurveyAlreadyAnswered(LoketError):
    """This ticket already has its response; the first one is kept."""

    code = "survey_already_answered"
    http_status = 409


def clean_answers(answers, comment) -> tuple[dict[str, int], str | None]:
    """Check a submission: ``answers`` {"u1": 1..4, ... "u9": 1..4} (keys "U1" also
    accepted; integers, or strings of one digit), ``comment`` a string or None.

    Returns ({"u1": int, ...}, comment stripped or None). Raises ValidationError naming the
    first bad field (``field``), with ``missing`` (element keys not answered) and
    ``invalid`` (keys outside 1..4) in the details.
    """
    if not isinstance(answers, dict):
        raise ValidationError(key="error.survey.answers_object", field="answers")
    given = {str(k).lower(): v for k, v in answers.items()}
    missing, invalid, clean = [], [], {}
    for el in ELEMENTS:
        value = given.get(el.key)
        if value is None or value == "":
            missing.append(el.key)
            continue
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or value not in SCALE:
            invalid.append(el.key)
            continue
        clean[el.key] = value
    if missing:
        codes = ", ".join(k.upper() for k in missing)
        raise ValidationError(key="error.survey.missing", params={"codes": codes},
                              field=missing[0], missing=missing, invalid=invalid)
    if invalid:
        codes = ", ".join(k.upper() for k in invalid)
        raise ValidationError(key="error.survey.out_of_scale", params={"codes": codes},
                              field=invalid[0], missing=[], invalid=invalid)
    if comment is not None and not isinstance(comment, str):
        raise ValidationError(key="error.survey.comment_text", field="comment")
    text = "".join(ch for ch in (comment or "") if ch in "\n\t" or ch.isprintable()).strip()
    if len(text) > SURVEY_COMMENT_MAX:
        raise ValidationError(key="error.survey.comment_too_long", params={"max": SURVEY_COMMENT_MAX},
                              field="comment", max_length=SURVEY_COMMENT_MAX, length=len(text))
    return clean, text or None


def answered(session: Session, ticket_id: int) -> bool:
    """Whether ``ticket_id`` already has its response."""
    return session.scalar(select(SurveyResponse.id).where(SurveyResponse.ticket_id == ticket_id)) is not None


def submit_response(
    session: Session, ticket: Ticket, answers, comment=None, *, channel: str, actor: Actor,
    device_id: int | None = None, now: datetime | None = None,
) -> SurveyResponse:
    """Store the response for served ``ticket`` in the caller's transaction and audit it.

    ``channel``: "counter" (tablet, with ``device_id``) or "link". Office, service, counter,
    officer and day come from the ticket. Raises ValidationError (see ``clean_answers``),
    SurveyNotServed (409, ticket not done), SurveyAlreadyAnswered (409; the first response
    stays). Safe under concurrency: ``INSERT ... ON CONFLICT (ticket_id) DO NOTHING``, so of
    two simultaneous submissions exactly one is stored.
    """
    now = now or utcnow()
    if channel not in {c.value for c in SurveyChannel}:
        raise ValueError(f"unknown survey channel {channel!r}")
    values, text = clean_answers(answers, comment)
    if ticket.status != TicketStatus.DONE.value:
        raise SurveyNotServed(key="error.survey.not_served", status=ticket.status)
    insert = postgresql.insert if is_postgres(session) else sqlite.insert
    row_id = session.execute(insert(SurveyResponse).values(
        ticket_id=ticket.id, office_id=ticket.office_id, service_id=ticket.service_id, counter_id=ticket.counter_id,
        officer_id=ticket.officer_id, device_id=device_id, day=ticket.day, channel=channel, comment=text,
        submitted_at=now, **values,
    ).on_conflict_do_nothing(index_elements=["ticket_id"]).returning(SurveyResponse.id)).scalar()
    if row_id is None:
        raise SurveyAlreadyAnswered(key="error.survey.already_answered")
    response = session.get_one(SurveyResponse, row_id)  # inserted just now
    audit.record(session, actor, "survey.submit", "survey_response", row_id, office_id=ticket.office_id,
                 to_state="submitted", at=now,
                 data={"ticket_id": ticket.id, "channel": channel, "device_id": device_id,
                       "answers": values, "has_comment": text is not None})
    return response


def response_view(response: SurveyResponse) -> dict:
    """A stored response as the API answers it (no personal data; the officer as id only):
    {"id", "ticket_id", "channel", "answers": {"u1": n, ...}, "comment", "submitted_at"}."""
    return {"id": response.id, "ticket_id": response.ticket_id, "channel": response.channel,
            "answers": {el.key: getattr(response, el.key) for el in ELEMENTS},
            "comment": response.comment, "submitted_at": iso(response.submitted_at)}
