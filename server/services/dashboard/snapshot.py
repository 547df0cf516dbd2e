"""The managers' live dashboard of one office (issue 7): what the page and the API show.

Every figure is read from what the queue, the stations, the applications and the
activation counter already record; nothing is stored for the dashboard. Definitions:

- **waiting / serving per service**: today's tickets (office-local queue day) waiting, and
  called or being served at a counter;
- **longest current wait**: the oldest ``waiting_since`` of a waiting ticket, i.e. the time
  in the queue since the ticket (re)entered it (issue, transfer, or return after a skip):
  the same clock as the aging rule of ``services.queue.calling``;
- **counters**: ``serving`` (open with a called or serving ticket), ``idle`` (open, none),
  ``paused`` (with its reason) and ``closed``, each with its officer;
- **calls in the last hour**: calls of a number to a counter (``call`` and ``specific``)
  in (now − 60 min, now]; recalls are counted apart; the chart has 12 five-minute bars;
- **no-show rate today**: no-shows ÷ (served + no-shows) of today's tickets, in percent
  (transferred tickets continue as another ticket; cancelled and closed-unserved ones
  were never called to the end, so neither counts); None before any ticket has ended;
- **devices unhealthy**: active stations reporting a device not ok (``services.devices``),
  or silent: reported once, then nothing for more than SILENT_S seconds. Stations that
  never reported (pages without an agent) are counted apart, not as unhealthy;
- **applications late**: see ``late_files``;
- **activations today**: KTP-el activations completed since office-local midnight.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ...models import (
    AT_COUNTER_STATUSES, Activation, ActivationStatus, Call, Counter, CounterState, Device, Office, Ticket,
    TicketStatus, utcnow,
)
from ..clock import queue_day
from ..queue.presenters import iso
from .late_files import late_files
from .thresholds import evaluate, office_thresholds

SILENT_S = 60  # a station that reported before and is silent this long counts as unhealthy
CALL_BUCKET_MIN, CALL_BUCKETS = 5, 12  # the last hour in five-minute bars
WAITING, DONE, NO_SHOW = TicketStatus.WAITING.value, TicketStatus.DONE.value, TicketStatus.NO_SHOW.value


def _queues(session: Session, office: Office, day, now: datetime) -> tuple[list[dict], dict]:
    """Per active service: waiting, serving, longest wait (s); and the office totals."""
    rows = session.execute(
        select(Ticket.service_id, Ticket.status, func.count(), func.min(Ticket.waiting_since))
        .where(Ticket.office_id == office.id, Ticket.day == day,
               Ticket.status.in_((WAITING,) + AT_COUNTER_STATUSES))
        .group_by(Ticket.service_id, Ticket.status)
    ).all()
    per: dict[int, dict] = {}
    for service_id, status, count, oldest in rows:
        row = per.setdefault(service_id, {"waiting": 0, "serving": 0, "oldest": None})
        if status == WAITING:
            row["waiting"] += count
            row["oldest"] = _utc(oldest)
        else:
            row["serving"] += count
    services = []
    for svc in office.services:
        row = per.get(svc.id, {"waiting": 0, "serving": 0, "oldest": None})
        if not svc.active and not row["waiting"] and not row["serving"]:
            continue
        services.append({
            "id": svc.id, "code": svc.code, "letter": svc.letter, "name_id": svc.name_id, "name_en": svc.name_en,
            "waiting": row["waiting"], "serving": row["serving"], "longest_wait_s": _seconds(row["oldest"], now),
        })
    head = session.execute(
        select(Ticket.display_number, Ticket.waiting_since)
        .where(Ticket.office_id == office.id, Ticket.day == day, Ticket.status == WAITING)
        .order_by(Ticket.waiting_since, Ticket.id).limit(1)
    ).first()
    totals = {
        "waiting": sum(s["waiting"] for s in services), "serving": sum(s["serving"] for s in services),
        "longest_wait_s": _seconds(head.waiting_since, now) if head else None,
        "longest_wait_number": head.display_number if head else None,
    }
    return services, totals


def _utc(value: datetime | None) -> datetime | None:
    """An aggregate of a UTC column as an aware UTC datetime (guards a naive result)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


def _seconds(since: datetime | None, now: datetime) -> int | None:
    aware = _utc(since)
    return None if aware is None else max(0, int((now - aware).total_seconds()))


def _counters(session: Session, office: Office) -> tuple[list[dict], dict]:
    at_counter = {
        t.counter_id: t for t in session.scalars(
            select(Ticket).where(Ticket.office_id == office.id, Ticket.status.in_(AT_COUNTER_STATUSES)))
    }
    out, summary = [], {"serving": 0, "idle": 0, "paused": 0, "closed": 0}
    counters = session.scalars(select(Counter).options(selectinload(Counter.officer))
                               .where(Counter.office_id == office.id).order_by(Counter.number))
    for c in counters:
        current = at_counter.get(c.id)
        if c.state == CounterState.OPEN.value:
            state = "serving" if current is not None else "idle"
        else:
            state = CounterState.PAUSED.value if c.state == CounterState.PAUSED.value else "closed"
        summary[state] += 1
        out.append({
            "id": c.id, "number": c.number, "label": c.label, "state": state, "pause_reason": c.pause_reason,
            "officer": c.officer.full_name if c.officer is not None and c.state != CounterState.CLOSED.value else None,
            "current": current.display_number if current is not None else None,
        })
    return out, summary


def _calls(session: Session, office: Office, now: datetime) -> dict:
    since = now - timedelta(minutes=CALL_BUCKET_MIN * CALL_BUCKETS)
    rows = session.execute(
        select(Call.at, Call.kind).where(Call.office_id == office.id, Call.at > since, Call.at <= now)
    ).all()
    zone = ZoneInfo(office.timezone)
    buckets: list[dict[str, Any]] = [{"from": (since + timedelta(minutes=CALL_BUCKET_MIN * i)).astimezone(zone).strftime("%H:%M"),
                "calls": 0} for i in range(CALL_BUCKETS)]
    calls = recalls = 0
    for at, kind in rows:
        if kind == "recall":
            recalls += 1
            continue
        calls += 1
        index = int((at - since).total_seconds() // (CALL_BUCKET_MIN * 60))
        buckets[min(max(index, 0), CALL_BUCKETS - 1)]["calls"] += 1
    return {"last_hour": calls, "recalls_last_hour": recalls, "per_5_min": buckets}


def _no_show(session: Session, office: Office, day) -> dict:
    counts = dict(session.execute(
        select(Ticket.status, func.count()).where(Ticket.office_id == office.id, Ticket.day == day,
                                                   Ticket.status.in_((DONE, NO_SHOW)))
        .group_by(Ticket.status)
    ).all())
    served, no_show = counts.get(DONE, 0), counts.get(NO_SHOW, 0)
    ended = served + no_show
    return {"served": served, "no_show": no_show, "ended": ended,
            "rate_pct": round(100 * no_show / ended, 1) if ended else None}


def _devices(session: Session, office: Office, now: datetime) -> dict:
    devices = session.scalars(select(Device).where(Device.office_id == office.id, Device.active.is_(True))
                              .order_by(Device.kind, Device.name)).all()
    unhealthy, never = [], 0
    for d in devices:
        silent = d.last_seen_at is not None and (now - d.last_seen_at).total_seconds() > SILENT_S
        if d.last_seen_at is None:
            never += 1
        if d.unhealthy_since is not None or silent:
            unhealthy.append({
                "id": d.id, "name": d.name, "kind": d.kind, "reason": "unhealthy" if d.unhealthy_since else "silent",
                "since": iso(d.unhealthy_since or d.last_seen_at), "last_error": d.last_error,
            })
    return {"total": len(devices), "unhealthy": unhealthy, "never_reported": never}


def _activations_today(session: Session, office: Office, day, now: datetime) -> int:
    midnight = datetime.combine(day, time.min, ZoneInfo(office.timezone))
    return session.scalar(
        select(func.count()).select_from(Activation).where(
            Activation.office_id == office.id, Activation.status == ActivationStatus.COMPLETED.value,
            Activation.closed_at >= midnight, Activation.closed_at <= now)
    ) or 0


def dashboard_snapshot(session: Session, office: Office, now: datetime | None = None) -> dict:
    """The dashboard of ``office`` at ``now`` (aware; default the current time).

    Returns {"office": {"id", "code", "name", "timezone"}, "server_time", "day",
    "services": [{"id", "code", "letter", "name_id", "name_en", "waiting", "serving",
    "longest_wait_s"}], "queue": {"waiting", "serving", "longest_wait_s",
    "longest_wait_number"}, "counters": [{"id", "number", "label", "state", "pause_reason",
    "officer", "current"}], "counter_summary": {"serving", "idle", "paused", "closed"},
    "calls": {"last_hour", "recalls_last_hour", "per_5_min": [{"from": "HH:MM", "calls"}]},
    "no_show": {"served", "no_show", "ended", "rate_pct"}, "devices": {"total",
    "unhealthy": [...], "never_reported"}, "applications": ``late_files``,
    "activations_today", "figures": the values thresholds watch, "thresholds",
    "alerts": [{"key", "setting", "value", "limit"}]}. Times in seconds unless named
    ``_min``; definitions in the module docstring. Officer names appear (staff only);
    citizens' names and NIK never do.
    """
    now = now or utcnow()
    day = queue_day(office, now)
    services, queue = _queues(session, office, day, now)
    counters, counter_summary = _counters(session, office)
    no_show = _no_show(session, office, day)
    devices = _devices(session, office, now)
    files = late_files(session, office, now)
    figures = {
        "longest_wait_min": None if queue["longest_wait_s"] is None else round(queue["longest_wait_s"] / 60, 1),
        "waiting": queue["waiting"], "no_show_pct": no_show["rate_pct"], "ended": no_show["ended"],
        "unhealthy_devices": len(devices["unhealthy"]), "late_steps": files["late_steps"], "overdue": files["overdue"],
    }
    limits = office_thresholds(office)
    return {
        "office": {"id": office.id, "code": office.code, "name": office.name, "timezone": office.timezone},
        "server_time": now.isoformat(), "day": day.isoformat(),
        "services": services, "queue": queue,
        "counters": counters, "counter_summary": counter_summary,
        "calls": _calls(session, office, now),
        "no_show": no_show, "devices": devices, "applications": files,
        "activations_today": _activations_today(session, office, day, now),
        "figures": figures, "thresholds": limits, "alerts": evaluate(figures, limits),
    }
