"""Cards on readers and cards bound to applications (issue 5).

What a UID means here: the KTP-el chip is contactless ISO 14443; without the SAM that only
Dukcapil issues, only its UID and ATR are readable. A UID says "this is the card printed
for this application", never who holds it: the officer still checks the person.

- :func:`record_card_event`: an activation station's ``card`` event (from its agent, see
  ``services.devices.record_station_event``) updates :class:`StationCard`, the card lying
  on that station's reader now.
- :func:`bind_card`: at the print step of a KTP-el file, the printing operator taps the
  new card on a station's reader and binds its UID and ATR to the application and NIK
  (seed 002, KTP-el SOP steps 7-8; issue 5 "Binding the card when it is printed").
"""
from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Application, CardBinding, Device, DeviceKind, Office, StationCard, utcnow
from .. import audit
from ..actors import Actor
from ..applications.card_gate import PRINT_STEP, has_activation
from ..applications.records import check_version, load
from ..applications.roles import require_step_role
from ..errors import Forbidden, LoketError, NotFound, ValidationError

_HEX = re.compile(r"^[0-9A-F]{8,20}$")  # 4, 7 or 10 byte ISO 14443 UIDs (up to 10 bytes)


class CardRefused(LoketError):
    """A card or a file that cannot be used here; ``code`` says why (instance attribute)."""

    http_status = 409

    def __init__(self, code: str, message: str = "", *, key: str | None = None, params: dict | None = None,
                 http_status: int = 409, **details) -> None:
        super().__init__(message, key=key, params=params, **details)
        self.code, self.http_status = code, http_status
        self.audit: dict | None = None  # what sessions.record_refusal audits (set by sessions.refuse)


def normalize_uid(text) -> str:
    """A UID as upper-case hex without separators ("04:a1 b2" → "04A1B2..."); raises
    ValidationError unless it is 4-10 bytes of hex."""
    uid = re.sub(r"[\s:\-]", "", str(text or "")).upper()
    if not _HEX.match(uid) or len(uid) % 2:
        raise ValidationError(key="error.activation.card_uid", field="uid")
    return uid


def step_index(app: Application, code: str) -> int | None:
    """The index of the step with ``code`` in ``app``'s steps, or None."""
    return next((i for i, step in enumerate(app.steps) if step.get("code") == code), None)


def reader_station(session: Session, device_id: int, office_id: int | None) -> Device:
    """The active card-reader (``activation``) station ``device_id`` of ``office_id`` (any
    office when None). Raises NotFound."""
    device = session.get(Device, device_id)
    if (device is None or device.kind != DeviceKind.ACTIVATION.value or not device.active
            or (office_id is not None and device.office_id != office_id)):
        raise NotFound(key="error.activation.station_not_found")
    return device


def station_card(session: Session, device_id: int) -> StationCard | None:
    """What the station's reader last saw (present or not), or None before any card."""
    return session.get(StationCard, device_id)


def record_card_event(session: Session, device: Device, event: dict, now: datetime | None = None) -> StationCard:
    """Apply a cleaned ``card`` event {"event", "reader", "uid", "atr"} of ``device`` to its
    :class:`StationCard`: ``inserted`` → present with its UID/ATR; ``removed`` and
    ``reader_removed`` → not present (the last UID is kept for the page); ``reader_added``
    changes nothing. Returns the row."""
    now = now or utcnow()
    card = session.get(StationCard, device.id)
    if card is None:
        card = StationCard(device_id=device.id, present=False, at=now)
        session.add(card)
    kind = event.get("event")
    if kind == "inserted":
        try:
            card.uid = normalize_uid(event.get("uid"))
        except ValidationError:
            card.uid = None  # a card whose UID could not be read is not a card Loket knows
        card.present, card.atr, card.reader, card.at = card.uid is not None, event.get("atr"), event.get("reader"), now
    elif kind in ("removed", "reader_removed"):
        card.present, card.at = False, now
        if kind == "reader_removed":
            card.reader = event.get("reader")
    session.flush()
    return card


def binding_of(session: Session, application_id: int) -> CardBinding | None:
    return session.get(CardBinding, application_id)


def binding_by_uid(session: Session, uid: str) -> CardBinding | None:
    return session.scalars(select(CardBinding).where(CardBinding.uid == uid)).first()


def bind_card(
    session: Session, application_id: int, device_id: int, *, actor: Actor, expected_version: int,
    now: datetime | None = None,
) -> CardBinding:
    """Bind the card now on station ``device_id``'s reader to the KTP-el application.

    The file must be at its ``print`` step (the actor's step role: the printing operator)
    and have an ``activate`` step. A card already bound to another application is refused
    (``bound_elsewhere``); binding again before activation replaces this file's card (a
    misprint), audited as ``application.card_rebound``. Audit: ``application.card_bound``
    {"uid", "atr", "reader", "device_id"}. Raises NotFound, Forbidden, InvalidState
    (version), CardRefused (``not_ktp``, ``not_at_print``, ``no_card``,
    ``bound_elsewhere``, ``already_activated``).
    """
    now = now or utcnow()
    app = load(session, application_id)
    check_version(app, expected_version)
    if not has_activation(app):
        raise CardRefused("not_ktp", key="error.activation.bind.not_ktp")
    if app.step_code != PRINT_STEP:
        raise CardRefused("not_at_print", key="error.activation.bind.not_at_print", step=app.step_code)
    office = session.get(Office, app.office_id)
    if office is None:
        raise NotFound(key="error.not_found.office")
    require_step_role(actor, office, app.step_role)
    if actor.id is None:  # bound_by names the staff member who tapped the card
        raise Forbidden(key="error.activation.bind_staff_only")
    device = reader_station(session, device_id, app.office_id)
    card = station_card(session, device.id)
    if card is None or not card.present or not card.uid:
        raise CardRefused("no_card", key="error.activation.bind.no_card")
    other = binding_by_uid(session, card.uid)
    if other is not None and other.application_id != app.id:
        raise CardRefused("bound_elsewhere", key="error.activation.bind.bound_elsewhere", uid=card.uid)
    binding = binding_of(session, app.id)
    if binding is not None and binding.activated_at is not None:
        raise CardRefused("already_activated", key="error.activation.bind.already_activated")
    action = "application.card_bound"
    if binding is None:
        binding = CardBinding(application_id=app.id, office_id=app.office_id, fingerprint_failures=0)
        session.add(binding)
    elif binding.uid != card.uid:
        action = "application.card_rebound"
    old_uid = binding.uid
    binding.uid, binding.atr, binding.nik = card.uid, card.atr or "", app.applicant_nik
    binding.reader, binding.device_id, binding.bound_by, binding.bound_at = card.reader or "", device.id, actor.id, now
    session.flush()
    audit.record(session, actor, action, "application", app.id, office_id=app.office_id, at=now,
                 data={"uid": card.uid, "atr": card.atr, "reader": card.reader, "device_id": device.id,
                       "previous_uid": old_uid if action.endswith("rebound") else None})
    return binding


def binding_view(binding: CardBinding | None) -> dict | None:
    """{"uid", "atr", "reader", "bound_at", "activated_at", "fingerprint_failures", "blocked"} or None."""
    if binding is None:
        return None
    return {"uid": binding.uid, "atr": binding.atr, "reader": binding.reader, "bound_at": binding.bound_at.isoformat(),
            "activated_at": binding.activated_at.isoformat() if binding.activated_at else None,
            "fingerprint_failures": binding.fingerprint_failures, "blocked": binding.blocked_at is not None}
