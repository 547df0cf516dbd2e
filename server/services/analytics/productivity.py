"""Officer productivity (issue 7, "Reports"): tickets served, mean service time, and how
the time a counter was open divides into paused, busy and idle.

Sources: the counter transitions the queue engine writes to the audit log
(``services.queue.counters``: ``counter.open`` (open or resume), ``counter.paused``,
``counter.closed``, each with ``at`` and ``to_state``) and the tickets.

Definitions (all times in seconds, within the report's period [start, end) of
office-local days, and never after ``now``):

- A counter's **holder** is the staff user who opened it (the actor of a
  ``counter.open`` row whose ``from_state`` was closed); a resume or pause keeps the holder;
  a close ends the holding.
- Each stretch between two transitions of a counter is **open** (state open or paused)
  or not. A stretch never runs past the office-local midnight after it began: a counter
  left open overnight counts only until midnight, and nothing until its next transition.
- **open_s**: time the officer held a counter open, pauses included.
- **paused_s**: the part of open_s in state paused.
- **busy_s**: the part of open, not paused time when a ticket was at the officer's
  counter: from the ticket's (last) call to its end (finished, transferred or no-show),
  i.e. the counter could not call anyone else. Tickets skipped and re-queued are not
  counted for the earlier call (the ticket keeps only its last call time).
- **idle_s** = open_s − paused_s − busy_s: open and not paused and not serving.
- **served**: tickets ``done`` by the officer (``Ticket.officer_id``) whose queue day is in
  the period; **mean_service_s** their mean start → finish; **no_show**, **transferred**
  likewise by the officer.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import AuditEntry, Counter, StaffUser, Ticket, TicketStatus, utcnow
from .filters import ReportQuery

COUNTER_ACTIONS = ("counter.open", "counter.paused", "counter.closed")
OPEN, PAUSED, CLOSED = "open", "paused", "closed"
ENDED = (TicketStatus.DONE.value, TicketStatus.TRANSFERRED.value, TicketStatus.NO_SHOW.value)


def _merge(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    out: list[list[datetime]] = []
    for a, b in sorted(i for i in intervals if i[1] > i[0]):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def overlap_seconds(xs: list[tuple[datetime, datetime]], ys: list[tuple[datetime, datetime]]) -> float:
    """Seconds covered by both interval lists (each merged first)."""
    xs, ys = _merge(xs), _merge(ys)
    i = j = 0
    total = 0.0
    while i < len(xs) and j < len(ys):
        a, b = max(xs[i][0], ys[j][0]), min(xs[i][1], ys[j][1])
        if b > a:
            total += (b - a).total_seconds()
        if xs[i][1] < ys[j][1]:
            i += 1
        else:
            j += 1
    return total


def counter_stretches(session: Session, q: ReportQuery, now: datetime) -> list[dict]:
    """The counters' open and paused stretches in the period as [{"officer_id",
    "counter_id", "state": "open"|"paused", "start", "end"}] (see the module docstring)."""
    start, end = q.bounds
    stop = min(end, now)
    zone = ZoneInfo(q.office.timezone)
    cond = [AuditEntry.office_id == q.office.id, AuditEntry.action.in_(COUNTER_ACTIONS),
            AuditEntry.entity_type == "counter", AuditEntry.at >= start, AuditEntry.at < stop]
    if q.counter_id is not None:
        cond.append(AuditEntry.entity_id == q.counter_id)
    rows = session.scalars(select(AuditEntry).where(*cond).order_by(AuditEntry.at, AuditEntry.id)).all()

    def midnight_after(t: datetime) -> datetime:
        return datetime.combine(t.astimezone(zone).date() + timedelta(days=1), time.min, zone)

    state: dict[int | None, dict] = {}  # by counter id (a counter row always names its counter)
    out: list[dict] = []

    def close_stretch(counter_id: int | None, until: datetime) -> None:
        cur = state.get(counter_id)
        if cur and cur["state"] in (OPEN, PAUSED) and cur["holder"] is not None:
            finish = min(until, midnight_after(cur["since"]), stop)
            if finish > cur["since"]:
                out.append({"officer_id": cur["holder"], "counter_id": counter_id, "state": cur["state"],
                            "start": cur["since"], "end": finish})

    for e in rows:
        close_stretch(e.entity_id, e.at)
        cur = state.setdefault(e.entity_id, {"state": CLOSED, "holder": None, "since": e.at})
        if e.action == "counter.open" and (e.from_state in (None, CLOSED) or cur["holder"] is None):
            cur["holder"] = e.actor_id if e.actor_type == "staff" else cur["holder"]
        cur["state"] = e.to_state or e.action.split(".", 1)[1]
        cur["since"] = e.at
        if cur["state"] == CLOSED:
            cur["holder"] = None
    for counter_id in list(state):
        close_stretch(counter_id, stop)
    return out


def productivity_report(session: Session, q: ReportQuery, *, now: datetime | None = None) -> dict:
    """Officer productivity for ``q`` (office, period; filters counter and officer; a
    service filter narrows served, no_show, transferred and mean_service_s only: open,
    paused, busy and idle time stay the officer's whole time).

    Returns {"office", "from", "to", "filters", "rows": [{"officer" (username), "name",
    "counters": [numbers], "served", "no_show", "transferred", "mean_service_s", "open_s",
    "paused_s", "busy_s", "idle_s"}] (by username), "total": the same sums (mean over all
    served tickets)}. Seconds rounded to 0.1 s. Definitions in the module docstring.
    """
    now = now or utcnow()
    start, end = q.bounds
    stretches = counter_stretches(session, q, now)
    cond = [Ticket.office_id == q.office.id, Ticket.officer_id.is_not(None)]
    if q.counter_id is not None:
        cond.append(Ticket.counter_id == q.counter_id)
    if q.officer_id is not None:
        cond.append(Ticket.officer_id == q.officer_id)
    in_days = [*cond, Ticket.day >= q.first, Ticket.day <= q.last]
    if q.service_id is not None:  # busy time stays whole: idle must not grow by other services' tickets
        in_days.append(Ticket.service_id == q.service_id)
    tickets = session.execute(select(Ticket.officer_id, Ticket.status, Ticket.started_at, Ticket.finished_at)
                              .where(*in_days)).all()
    busy_rows = session.execute(select(Ticket.officer_id, Ticket.called_at, Ticket.finished_at).where(
        *cond, Ticket.status.in_(ENDED), Ticket.called_at.is_not(None), Ticket.finished_at.is_not(None),
        Ticket.finished_at > start, Ticket.called_at < min(end, now))).all()

    per: dict[int, dict] = defaultdict(lambda: {"served": 0, "no_show": 0, "transferred": 0, "service": [],
                                                "open": [], "paused": [], "busy": [], "counters": set()})
    for officer_id, status, started, finished in tickets:
        if officer_id is None:  # never: the query selects tickets with an officer
            continue
        p = per[officer_id]
        if status == TicketStatus.DONE.value:
            p["served"] += 1
            if started and finished:
                p["service"].append((finished - started).total_seconds())
        elif status == TicketStatus.NO_SHOW.value:
            p["no_show"] += 1
        elif status == TicketStatus.TRANSFERRED.value:
            p["transferred"] += 1
    for officer_id, called, finished in busy_rows:
        if officer_id is None or called is None or finished is None:  # never: excluded by the query
            continue
        per[officer_id]["busy"].append((max(called, start), min(finished, end, now)))
    for s in stretches:
        if q.officer_id is None or s["officer_id"] == q.officer_id:
            per[s["officer_id"]][s["state"]].append((s["start"], s["end"]))
            per[s["officer_id"]]["counters"].add(s["counter_id"])

    users = {u.id: u for u in session.scalars(select(StaffUser).where(StaffUser.id.in_(list(per))))}
    numbers = dict(session.execute(select(Counter.id, Counter.number).where(Counter.office_id == q.office.id)).all())
    rows, all_service = [], []
    for officer_id, p in per.items():
        opened = sum((b - a).total_seconds() for a, b in p["open"] + p["paused"])
        paused = sum((b - a).total_seconds() for a, b in p["paused"])
        busy = overlap_seconds(p["busy"], p["open"])
        user = users.get(officer_id)
        all_service += p["service"]
        rows.append({
            "officer": user.username if user else str(officer_id), "name": user.full_name if user else "",
            "counters": sorted(numbers.get(c, c) for c in p["counters"]),
            "served": p["served"], "no_show": p["no_show"], "transferred": p["transferred"],
            "mean_service_s": round(sum(p["service"]) / len(p["service"]), 1) if p["service"] else None,
            "open_s": round(opened, 1), "paused_s": round(paused, 1), "busy_s": round(busy, 1),
            "idle_s": round(opened - paused - busy, 1),
        })
    rows.sort(key=lambda r: r["officer"])
    total = {k: round(sum(r[k] for r in rows), 1) for k in ("open_s", "paused_s", "busy_s", "idle_s")}
    total.update({k: sum(r[k] for r in rows) for k in ("served", "no_show", "transferred")})
    total["mean_service_s"] = round(sum(all_service) / len(all_service), 1) if all_service else None
    return {"office": q.office.code, "from": q.first.isoformat(), "to": q.last.isoformat(), "filters": q.filters(),
            "rows": rows, "total": total}
