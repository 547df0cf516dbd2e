"""Pickups and activations per day, by channel, and refusals by reason (issue 7, "Reports").

Sources: applications handed over (``Application.collected_at``, the collector's
``device_id`` set by the pickup station, ``services.applications.pickup``), the
``pickup.refused`` audit rows (``data.refusal``, ``data.device_id``) and the activation
figures of ``services.activation.report.activation_figures`` (its ``activation.*`` audit
rows; not its queue table, which reads every ticket of the period).

**Channel**: a pickup at a ``pickup`` device is ``drive_thru`` unless the device's
settings say ``{"channel": "counter"}`` (an ordinary pickup counter with a scanner); a
pickup without a device is ``counter``. This follows the notices, which treat an
office's pickup station as its Drive-Thru lane (``services.notices.texts.has_drive_thru``).
KTP-el activation is only at the activation counter (in person, seed 002): channel
``counter``.
"""
from __future__ import annotations

from collections import Counter as Tally
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Application, AuditEntry, Device, DeviceKind
from ..activation.report import activation_figures
from .filters import ReportQuery

CHANNELS = ("counter", "drive_thru")


@dataclass
class _Day:
    """One day's figures: pickups by channel, activations, refusals of each counter."""

    pickups: Tally[str] = field(default_factory=Tally)
    activations: int = 0
    pickup_refusals: int = 0
    activation_refusals: int = 0


def device_channels(session: Session, office_id: int) -> dict[int, str]:
    """{pickup device id: "counter" | "drive_thru"} of an office (see the module docstring)."""
    devices = session.scalars(select(Device).where(Device.office_id == office_id,
                                                   Device.kind == DeviceKind.PICKUP.value))
    return {d.id: "counter" if (d.settings or {}).get("channel") == "counter" else "drive_thru" for d in devices}


def channel_of(device_id, channels: dict[int, str]) -> str:
    """The channel of a pickup made at ``device_id`` (None: a counter)."""
    return channels.get(device_id, "drive_thru") if device_id else "counter"


def pickups_report(session: Session, q: ReportQuery) -> dict:
    """Pickups and activations of ``q``'s office and period (a service filter narrows the
    pickups; an officer filter narrows pickups and pickup refusals to that officer).

    Returns {"office", "from", "to", "filters", "days": [{"date", "pickups": {"counter",
    "drive_thru"}, "pickups_total", "activations", "pickup_refusals",
    "activation_refusals"}] (every day, oldest first), "totals": same without "date",
    "refusals_by_reason": [{"kind": "pickup"|"activation", "reason", "count"}] (most
    frequent first), "pickup_refusals_by_channel": {"counter", "drive_thru"}}.
    """
    zone = ZoneInfo(q.office.timezone)
    start, end = q.bounds
    channels = device_channels(session, q.office.id)
    days = {q.first + timedelta(days=i): _Day() for i in range((q.last - q.first).days + 1)}
    cond = [Application.office_id == q.office.id, Application.collected_at >= start, Application.collected_at < end]
    if q.service_id is not None:
        cond.append(Application.service_id == q.service_id)
    if q.officer_id is not None:
        cond.append(Application.id.in_(select(AuditEntry.entity_id).where(
            AuditEntry.office_id == q.office.id, AuditEntry.action == "application.hand_over",
            AuditEntry.actor_id == q.officer_id)))
    for collected_at, collector in session.execute(select(Application.collected_at, Application.collector).where(*cond)):
        day = days.get(collected_at.astimezone(zone).date())
        if day is not None:
            day.pickups[channel_of((collector or {}).get("device_id"), channels)] += 1

    reasons: Tally[tuple[str, str]] = Tally()
    by_channel: Tally[str] = Tally()
    refusal_cond = [AuditEntry.office_id == q.office.id, AuditEntry.action == "pickup.refused",
                    AuditEntry.at >= start, AuditEntry.at < end]
    if q.officer_id is not None:
        refusal_cond.append(AuditEntry.actor_id == q.officer_id)
    for at, data in session.execute(select(AuditEntry.at, AuditEntry.data).where(*refusal_cond)):
        day = days.get(at.astimezone(zone).date())
        if day is None:
            continue
        data = data or {}
        day.pickup_refusals += 1
        reasons[("pickup", str(data.get("refusal")))] += 1
        by_channel[channel_of(data.get("device_id"), channels)] += 1

    activations = activation_figures(session, q.office, q.first, q.last)
    for row in activations["days"]:
        of_day = days[date.fromisoformat(row["date"])]
        of_day.activations = row["activations"]
        of_day.activation_refusals = sum(row["refusals"].values())
    for r in activations["refusals_by_reason"]:
        reasons[("activation", r["reason"])] += r["count"]

    out_days: list[dict[str, Any]] = []
    for d, figures in days.items():
        picked = {c: figures.pickups[c] for c in CHANNELS}
        out_days.append({"date": d.isoformat(), "pickups": picked, "pickups_total": sum(picked.values()),
                         "activations": figures.activations, "pickup_refusals": figures.pickup_refusals,
                         "activation_refusals": figures.activation_refusals})
    totals: dict[str, Any] = {"pickups": {c: sum(r["pickups"][c] for r in out_days) for c in CHANNELS}}
    for k in ("pickups_total", "activations", "pickup_refusals", "activation_refusals"):
        totals[k] = sum(r[k] for r in out_days)
    return {
        "office": q.office.code, "from": q.first.isoformat(), "to": q.last.isoformat(), "filters": q.filters(),
        "days": out_days, "totals": totals,
        "refusals_by_reason": [{"kind": k, "reason": r, "count": n}
                               for (k, r), n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))],
        "pickup_refusals_by_channel": {c: by_channel[c] for c in CHANNELS},
    }
