"""Stations and their devices: health reports, keypad presses, scans and card events.

Agents (kiosk, display, pickup, activation; see ``drivers.station``) report over Socket.IO;
the handlers in ``server.realtime.handlers`` call these functions. Health is the equipment
monitoring of seed 002 ("monitoring sarana SIAK"): what each device says, when the
station was last seen, its last error, and since when it has been unhealthy.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Counter, Device, DeviceKind, utcnow
from . import audit, events
from .actors import Actor
from .activation import cards, sessions
from .errors import Forbidden, NotFound, ValidationError
from .queue import call_next, finish, recall, skip
from .queue.presenters import iso

STATES_OK = {"ok", "paper_low"}  # paper near-end still prints: a warning, not a failure
KEYPAD_ACTIONS = ("next", "recall", "skip", "finish")
MAX_DEVICES = 32


def device_actor(device: Device) -> Actor:
    """The audit/author identity of a station."""
    return Actor("device", device.id, office_id=device.office_id, device_kind=device.kind)


def device_public(device: Device) -> dict:
    """A station as the devices page and the kiosk see it (no secrets, no personal data)."""
    return {
        "id": device.id, "office_id": device.office_id, "kind": device.kind, "name": device.name,
        "active": device.active, "healthy": device.unhealthy_since is None,
        "devices": device.health or {}, "last_seen_at": iso(device.last_seen_at),
        "unhealthy_since": iso(device.unhealthy_since), "last_error": device.last_error,
        "last_error_at": iso(device.last_error_at),
    }


def _clean(report: dict) -> dict:
    if not isinstance(report, dict) or len(report) > MAX_DEVICES:
        raise ValidationError("health must be an object of at most 32 devices")
    out = {}
    for name, h in report.items():
        if not isinstance(h, dict) or not isinstance(h.get("state"), str):
            raise ValidationError(f"device {name!r} needs a state")
        out[str(name)[:40]] = {"kind": str(h.get("kind", ""))[:30], "state": h["state"][:30],
                               "detail": str(h.get("detail") or "")[:200],
                               "last_answer_at": h.get("last_answer_at") if isinstance(h.get("last_answer_at"), str) else None}
    return out


def record_health(session: Session, device_id: int, report: dict, now: datetime | None = None) -> Device:
    """Store an agent's health report ({name: {kind, state, detail, last_answer_at}}).

    Sets ``unhealthy_since`` when a device leaves ok (paper_low counts as ok) and clears it
    when all are ok again; the first failing device's text becomes ``last_error``. Audits
    and publishes only changes of state. Raises ValidationError for a malformed report.
    """
    now = now or utcnow()
    device = session.get(Device, device_id)
    if device is None:
        raise NotFound("device not found")
    health = _clean(report)
    device.last_seen_at = now
    before = {k: v["state"] for k, v in (device.health or {}).items()}
    after = {k: v["state"] for k, v in health.items()}
    device.health = health
    bad = [(k, v) for k, v in health.items() if v["state"] not in STATES_OK]
    if bad and device.unhealthy_since is None:
        device.unhealthy_since = now
    if not bad:
        device.unhealthy_since = None
    if bad and before != after:
        name, h = bad[0]
        device.last_error = f"{name}: {h['state']}" + (f" ({h['detail']})" if h["detail"] else "")
        device.last_error_at = now
    if before != after:
        audit.record(session, device_actor(device), "device.health", "device", device.id,
                     office_id=device.office_id, data={"states": after}, at=now)
        events.publish_after_commit(session, events.DomainEvent(
            events.DEVICE_CHANGED, device.office_id, {"device": device_public(device)}))
    return device


def keypad_press(session: Session, device_id: int, counter_number: int, action: str, now: datetime | None = None):
    """A call keypad's key, acting exactly like the console button of that counter.

    ``action``: next (finish the ticket being served, then call the next), recall, skip,
    finish. Allowed only for counters in the display device's ``keypad_counters`` setting.
    Returns the Counter. Raises Forbidden, NotFound, ValidationError and the queue errors.
    """
    device = session.get(Device, device_id)
    if device is None or device.kind != DeviceKind.DISPLAY.value:
        raise Forbidden("only a display station drives keypads")
    if action not in KEYPAD_ACTIONS:
        raise ValidationError(f"unknown key {action!r}", field="action")
    allowed = (device.settings or {}).get("keypad_counters") or []
    if counter_number not in allowed:
        raise Forbidden(f"this station may not operate counter {counter_number}")
    counter = session.scalars(
        select(Counter).where(Counter.office_id == device.office_id, Counter.number == counter_number)
    ).first()
    if counter is None:
        raise NotFound(f"counter {counter_number} not found")
    actor = device_actor(device)
    if action == "next":
        call_next(session, counter.id, actor=actor, finish_current=True, now=now)
    elif action == "recall":
        recall(session, counter.id, actor=actor, now=now)
    elif action == "skip":
        skip(session, counter.id, actor=actor, now=now)
    else:
        finish(session, counter.id, actor=actor, now=now)
    return counter


def record_station_event(session: Session, device_id: int, kind: str, data: dict, now: datetime | None = None) -> dict:
    """A pickup scan (``kind`` "scan": {code, source}) or an activation card event ("card":
    {event, reader, uid, atr}): audited and passed on to the station's page. Returns the
    cleaned event. Raises ValidationError for a malformed one, Forbidden for a wrong kind."""
    now = now or utcnow()
    device = session.get(Device, device_id)
    clean: dict[str, Any]
    expected = {"scan": DeviceKind.PICKUP.value, "card": DeviceKind.ACTIVATION.value}[kind]
    if device is None or device.kind != expected:
        raise Forbidden(f"{kind} events come from {expected} stations")
    if kind == "scan":
        code = data.get("code")
        if not isinstance(code, str) or not 0 < len(code) <= 512:
            raise ValidationError("a scan needs a code of 1-512 characters")
        clean = {"code": code, "source": str(data.get("source", ""))[:20]}
    else:
        if data.get("event") not in ("inserted", "removed", "reader_added", "reader_removed"):
            raise ValidationError("unknown card event")
        clean = {k: (str(data[k])[:80] if data.get(k) is not None else None) for k in ("event", "reader", "uid", "atr")}
    clean["at"] = now.isoformat()
    clean["device_id"] = device.id
    audit.record(session, device_actor(device), f"device.{kind}", "device", device.id, office_id=device.office_id,
                 data={k: v for k, v in clean.items() if k != "device_id"}, at=now)
    events.publish_after_commit(session, events.DomainEvent(events.STATION_EVENT, device.office_id,
                                                           {"device_id": device.id, "kind": kind, "event": clean}))
    if kind == "card":  # the card on the reader now, and the station's open activation (issue 5)
        cards.record_card_event(session, device, clean, now)
        sessions.on_card_event(session, device, clean, now)
    return clean
