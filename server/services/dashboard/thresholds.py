"""An office's dashboard thresholds (issue 7), read from ``office.settings["dashboard"]``.

Keys (each a whole number, or null/absent-from-the-form to switch that alert off;
defaults in brackets). A figure *crosses* its threshold when it is strictly greater:

- ``max_wait_min`` [30]: longest current wait in the queue, minutes (1-1440);
- ``max_waiting`` [50]: tickets waiting in the whole office (0-100000);
- ``max_no_show_pct`` [20]: no-show rate today, percent (0-100); judged only once at
  least ``no_show_min_ended`` [10] tickets have ended today (0-100000; not an alert of its
  own), so two tickets at opening time cannot turn it red;
- ``max_unhealthy_devices`` [0]: stations unhealthy or silent (0 = any one is an alert);
- ``max_late_steps`` [10]: open files whose current SOP step has taken longer than its
  standard minutes (mutu baku, seed 002);
- ``max_overdue`` [0]: open files past their completion time in working days.

The defaults are this project's choice (the seeds set no dashboard limits); the wait of
30 minutes is the issue's example. Keys not listed are refused on write and ignored on read.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...db import is_postgres
from ...i18n.catalogs import bilingual
from ...models import Office, utcnow
from .. import audit
from ..actors import Actor
from ..errors import NotFound, ValidationError

log = logging.getLogger(__name__)
SETTINGS_KEY = "dashboard"


@dataclass(frozen=True)
class Limit:
    """One threshold: its key, default, allowed range and the snapshot figure it watches
    (``figure``: a key of the snapshot's ``figures``; None for a helper setting)."""

    key: str
    default: int | None
    lo: int
    hi: int
    figure: str | None


LIMITS = (
    Limit("max_wait_min", 30, 1, 1440, "longest_wait_min"),
    Limit("max_waiting", 50, 0, 100_000, "waiting"),
    Limit("max_no_show_pct", 20, 0, 100, "no_show_pct"),
    Limit("no_show_min_ended", 10, 0, 100_000, None),
    Limit("max_unhealthy_devices", 0, 0, 1000, "unhealthy_devices"),
    Limit("max_late_steps", 10, 0, 100_000, "late_steps"),
    Limit("max_overdue", 0, 0, 100_000, "overdue"),
)
BY_KEY = {limit.key: limit for limit in LIMITS}
DEFAULTS = {limit.key: limit.default for limit in LIMITS}


def _number(limit: Limit, value) -> int | None:
    """``value`` as the threshold of ``limit`` (None or "" = off); ValueError when bad."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
        raise ValueError
    number = int(str(value).strip()) if isinstance(value, str) else int(value)
    if not limit.lo <= number <= limit.hi:
        raise ValueError
    return number


def parse_thresholds(raw: Mapping) -> dict:
    """Validate a whole set of thresholds (a form or JSON object: key → number, numeric
    text, "" or None for off). Keys missing from ``raw`` take their default.

    Returns {key: int | None} for every key of ``LIMITS``. Raises ValidationError whose
    ``details["errors"]`` maps each bad key to its message (``"<Indonesian> / <English>"``
    from the catalog keys ``error.dashboard.*``; the form shows it as it is), and
    refuses unknown keys; nothing is partially accepted.
    """
    errors: dict[str, str] = {}
    unknown = sorted(set(raw) - set(BY_KEY) - {"csrf_token"})
    for key in unknown:
        errors[key] = bilingual("error.dashboard.unknown_setting")
    out = {}
    for limit in LIMITS:
        if limit.key not in raw:
            out[limit.key] = limit.default
            continue
        try:
            out[limit.key] = _number(limit, raw[limit.key])
        except (TypeError, ValueError):
            errors[limit.key] = bilingual("error.dashboard.whole_number", lo=limit.lo, hi=limit.hi)
    if errors:
        raise ValidationError(key="error.dashboard.invalid_thresholds", params={"fields": ", ".join(errors)},
                              field=next(iter(errors)), errors=errors)
    return out


def office_thresholds(office: Office) -> dict:
    """The office's thresholds {key: int | None}: stored values over the defaults. A stored
    value that is malformed (settings edited by hand) falls back to its default, logged."""
    stored = (office.settings or {}).get(SETTINGS_KEY) or {}
    if not isinstance(stored, dict):
        log.warning("office %s: settings.dashboard is not an object; defaults used", office.code)
        stored = {}
    out = dict(DEFAULTS)
    for limit in LIMITS:
        if limit.key in stored:
            try:
                out[limit.key] = _number(limit, stored[limit.key])
            except (TypeError, ValueError):
                log.warning("office %s: dashboard.%s=%r is invalid; default used", office.code, limit.key,
                            stored[limit.key])
    return out


def save_thresholds(session: Session, office_id: int, raw: Mapping, *, actor: Actor,
                    now: datetime | None = None) -> dict:
    """Replace the office's dashboard thresholds with ``raw`` (see :func:`parse_thresholds`),
    holding the office row's lock (PostgreSQL; SQLite's write lock) so other settings
    written at the same time are kept. Writes one audit row ``office.dashboard_thresholds``
    with the values before and after. Returns the new thresholds. Raises ValidationError
    (nothing stored, nothing audited) or NotFound."""
    values = parse_thresholds(raw)
    stmt = select(Office).where(Office.id == office_id).execution_options(populate_existing=True)
    if is_postgres(session):
        stmt = stmt.with_for_update()
    office = session.scalars(stmt).first()
    if office is None:
        raise NotFound(key="error.not_found.office")
    before = office_thresholds(office)
    office.settings = {**(office.settings or {}), SETTINGS_KEY: values}  # a new dict: the JSON column is saved
    audit.record(session, actor, "office.dashboard_thresholds", "office", office.id, office_id=office.id,
                 data={"before": before, "after": values}, at=now or utcnow())
    return values


def evaluate(figures: Mapping, limits: Mapping) -> list[dict]:
    """The thresholds ``figures`` cross: [{"key": figure key, "setting": threshold key,
    "value", "limit"}] in ``LIMITS`` order. ``figures`` holds the snapshot's figures
    (``longest_wait_min``, ``waiting``, ``no_show_pct`` with ``ended``,
    ``unhealthy_devices``, ``late_steps``, ``overdue``); a None figure or an off limit
    never alerts."""
    alerts = []
    for limit in LIMITS:
        bound = limits.get(limit.key)
        value = figures.get(limit.figure) if limit.figure else None
        if bound is None or value is None:
            continue
        if limit.key == "max_no_show_pct" and (figures.get("ended") or 0) < (limits.get("no_show_min_ended") or 0):
            continue
        if value > bound:
            alerts.append({"key": limit.figure, "setting": limit.key, "value": value, "limit": bound})
    return alerts
