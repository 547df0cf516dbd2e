"""Loading an office's service catalog (TOML) into the database.

The catalog file is data, not code (issue 2): office details and queue rules, services
with letter, names, requirements, SOP steps and standard times, and counters with the
services they serve. See ``server/catalog/demo_office.toml`` for the format.
"""
from __future__ import annotations

import tomllib
from datetime import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Counter, Office, Service
from . import audit, events
from .actors import Actor
from .errors import Forbidden, ValidationError

DEMO_CATALOG = Path(__file__).resolve().parent.parent / "catalog" / "demo_office.toml"
STEP_KEYS = {"code", "role", "minutes", "name_id", "name_en"}


def _time(value: str, field: str) -> time:
    try:
        hh, mm = value.split(":")
        return time(int(hh), int(mm))
    except (ValueError, AttributeError):
        raise ValidationError(f"{field} must be HH:MM, got {value!r}", field=field) from None


def parse_catalog(data: dict) -> dict:
    """Check a parsed catalog dict; returns it unchanged. Raises ValidationError with the
    offending field (duplicate letters, steps without role or minutes, unknown services)."""
    if "office" not in data or "code" not in data["office"]:
        raise ValidationError("catalog needs [office] with a code", field="office")
    services = data.get("services", [])
    codes, letters = set(), set()
    for i, s in enumerate(services):
        for key in ("code", "letter", "name_id", "name_en"):
            if not s.get(key):
                raise ValidationError(f"services[{i}] needs {key}", field=f"services[{i}].{key}")
        if s["code"] in codes or s["letter"] in letters:
            raise ValidationError(f"duplicate service code or letter: {s['code']}/{s['letter']}", field=f"services[{i}]")
        if not (s["letter"].isalpha() and s["letter"].isupper() and len(s["letter"]) <= 2):
            raise ValidationError(f"letter must be 1-2 capital letters: {s['letter']!r}", field=f"services[{i}].letter")
        codes.add(s["code"])
        letters.add(s["letter"])
        for j, step in enumerate(s.get("steps", [])):
            missing = STEP_KEYS - step.keys()
            if missing:
                raise ValidationError(f"{s['code']} step {j} lacks {sorted(missing)}", field=f"services[{i}].steps[{j}]")
    for c in data.get("counters", []):
        unknown = set(c.get("services", [])) - codes
        if unknown:
            raise ValidationError(f"counter {c.get('number')} names unknown services {sorted(unknown)}", field="counters")
    return data


def load_catalog_file(session: Session, path: str | Path, *, actor: Actor, overrides: dict | None = None) -> Office:
    """Read ``path`` (TOML) and upsert its office, services and counters; returns the Office.

    ``overrides``: office fields to replace (e.g. {"code": "SIM1"}). Services and counters
    missing from the file are deactivated / kept, never deleted (tickets refer to them).
    Raises ValidationError, FileNotFoundError, tomllib.TOMLDecodeError.
    """
    with open(path, "rb") as fh:
        data = parse_catalog(tomllib.load(fh))
    return load_catalog(session, data, actor=actor, overrides=overrides)


def load_catalog(session: Session, data: dict, *, actor: Actor, overrides: dict | None = None) -> Office:
    """Upsert a parsed catalog (see :func:`load_catalog_file`). Office scope (issue 13):
    only a system-wide actor (``Actor.system_wide``) creates an office; an existing office
    is changed only by an actor that may access it. Raises Forbidden otherwise."""
    data = parse_catalog(data)
    od = {**data["office"], **(overrides or {})}
    office = session.scalars(select(Office).where(Office.code == od["code"])).first()
    created = office is None
    if office is None:
        if not actor.system_wide:
            raise Forbidden(key="error.catalog.create_office")
        office = Office(code=od["code"], name=od.get("name", od["code"]), settings={})
        session.add(office)
    elif not actor.may_access(office.id):
        raise Forbidden(key="error.catalog.other_office")
    office.name = od.get("name", office.name)
    office.address = od.get("address", office.address or "")
    office.timezone = od.get("timezone", office.timezone or "Asia/Jakarta")
    office.opening_time = _time(od.get("opening_time", "07:30"), "opening_time")
    office.closing_time = _time(od.get("closing_time", "16:00"), "closing_time")
    office.running_text = od.get("running_text", office.running_text or "")
    office.settings = {**(office.settings or {}), "queue": dict(od.get("queue", {}))}
    session.flush()

    by_code = {s.code: s for s in session.scalars(select(Service).where(Service.office_id == office.id))}
    for order, sd in enumerate(data.get("services", [])):
        svc = by_code.get(sd["code"]) or Service(office_id=office.id, code=sd["code"])
        svc.letter = sd["letter"]
        svc.name_id, svc.name_en = sd["name_id"], sd["name_en"]
        svc.description_id = sd.get("description_id", "")
        svc.description_en = sd.get("description_en", "")
        svc.requirements = list(sd.get("requirements", []))
        svc.steps = list(sd.get("steps", []))
        svc.completion_working_days = sd.get("completion_working_days")
        svc.counter_minutes = float(sd.get("counter_minutes", 10))
        svc.fee = int(sd.get("fee", 0))
        svc.kind = sd.get("kind", "application")
        svc.sort_order = order
        svc.active = sd.get("active", True)
        session.add(svc)
        by_code[svc.code] = svc
    listed = {sd["code"] for sd in data.get("services", [])}
    for code, svc in by_code.items():
        if code not in listed:
            svc.active = False
    session.flush()

    counters = {c.number: c for c in session.scalars(select(Counter).where(Counter.office_id == office.id))}
    for cd in data.get("counters", []):
        counter = counters.get(cd["number"]) or Counter(office_id=office.id, number=cd["number"], state="closed")
        counter.name = cd.get("name", "")
        counter.services = [by_code[c] for c in cd.get("services", [])]
        session.add(counter)
    session.flush()
    audit.record(session, actor, "catalog.load", "office", office.id, office_id=office.id,
                 data={"services": len(listed), "counters": len(data.get("counters", [])), "created": created})
    # screens load the new catalog (and a new office's event log begins here)
    events.publish_after_commit(session, events.DomainEvent(events.OFFICE_CHANGED, office.id, {"reason": "catalog"}))
    return office
