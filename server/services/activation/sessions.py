"""Activation sessions at the KTP-el activation counter (issue 5; seed 002, KTP-el SOP
step 8: "registrasi dan aktivasi KTP-el, tidak dapat diwakilkan", 15 minutes).

One open :class:`Activation` per station. The officer opens it for an application (resi
scanned or typed, or the NIK); the station's card taps are matched against the card bound
at print (:func:`on_card_event`); the officer records each fingerprint verification done
on Dukcapil's certified reader (Loket never matches fingerprints; ``drivers.biometric``
carries a vendor result when one is plugged in); then completes it, which moves the file
from ``activate`` to the hand-over. A card lifted mid-flow leaves nothing half-done: the
session simply waits for the card again, and completion needs the matching card on the
reader at that moment.

Refusals (``CardRefused`` codes, each audited as ``activation.refused`` by
:func:`record_refusal` after the refused transaction rolled back): resi_forged,
resi_malformed, resi_foreign, resi_unknown, resi_wrong_office, application_unknown, not_ktp,
not_printed, already_activated, not_bound, activation_blocked; on completion
card_not_present, card_mismatch, fingerprint_not_verified, checklist_incomplete. A tapped
card that is not this file's is recorded on the session (``card_refusal``: unknown_card,
bound_elsewhere, already_activated) and audited as ``activation.card_refused``.
After MAX_FINGERPRINT_FAILURES (4) failed verifications the file is blocked until a section
head releases it (:func:`release`).
"""
from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import (
    MAX_FINGERPRINT_FAILURES, Activation, ActivationStatus, Application, Counter, CounterState, Device, Office, Role,
    Ticket, utcnow,
)
from .. import audit, events
from ..actors import Actor
from ..applications import chain
from ..applications.pickup import find_by_code
from ..errors import Forbidden, InvalidState, NotFound, ValidationError, VersionConflict
from ..resi import ResiSigner
from ..applications.card_gate import ACTIVATE_STEP
from .cards import CardRefused, binding_by_uid, binding_of, has_activation, reader_station, station_card, step_index
from .texts import refusal_key, refusal_params, view

OPEN = ActivationStatus.OPEN.value
_NIK = re.compile(r"^\d{16}$")
RELEASE_ROLES = {Role.SECTION_HEAD.value, Role.ADMIN.value, Role.SYSTEM_ADMIN.value}


def open_session(session: Session, device_id: int) -> Activation | None:
    """The station's open activation session, or None."""
    return session.scalars(select(Activation).where(Activation.device_id == device_id, Activation.status == OPEN)
                           .order_by(Activation.id.desc())).first()


def refuse(session: Session, office_id: int, actor: Actor, code: str, *, device_id: int,
           application_id: int | None = None, http_status: int = 409, now: datetime | None = None,
           **details) -> CardRefused:
    """The error to raise for refusal ``code``; it carries what :func:`record_refusal`
    audits once the refused transaction has rolled back (``exc.audit``)."""
    exc = CardRefused(code, key=refusal_key(code), params=refusal_params(**details), http_status=http_status,
                      **details)
    exc.audit = {"office_id": office_id, "device_id": device_id, "application_id": application_id,
                 "actor": actor, "at": now}
    return exc


def record_refusal(session: Session, exc: CardRefused) -> None:
    """Audit a refusal raised by this module (``activation.refused`` {"reason",
    "device_id", details}) in the caller's new transaction; no-op for other errors."""
    ctx = getattr(exc, "audit", None)
    if not ctx:
        return
    audit.record(session, ctx["actor"], "activation.refused", "application" if ctx["application_id"] else "device",
                 ctx["application_id"] or ctx["device_id"], office_id=ctx["office_id"], at=ctx["at"],
                 data={"reason": exc.code, "device_id": ctx["device_id"], **exc.details})


def _find(session: Session, office: Office, ref: str, signer: ResiSigner) -> tuple[Application | None, str | None]:
    text = (ref or "").strip()
    if _NIK.match(text):
        apps = session.scalars(select(Application).where(
            Application.office_id == office.id, Application.applicant_nik == text).order_by(Application.id.desc())).all()
        ktp = [a for a in apps if has_activation(a)]
        waiting = [a for a in ktp if a.step_code == ACTIVATE_STEP]
        pool = waiting or ktp or apps
        found = pool[0] if pool else None
        return found, None if found is not None else "application_unknown"
    app, refusal, _details = find_by_code(session, office, text, signer)
    if refusal is not None:
        return None, {"unknown": "resi_unknown"}.get(refusal, f"resi_{refusal}")
    return app, None


def _state_refusal(session: Session, app: Application) -> tuple[str | None, dict]:
    if not has_activation(app):
        return "not_ktp", {}
    binding = binding_of(session, app.id)
    index, here = step_index(app, ACTIVATE_STEP), app.step_index
    assert index is not None  # has_activation: the file has an activate step
    if (binding is not None and binding.activated_at is not None) or app.step_code is None or here > index:
        when = binding.activated_at.isoformat() if binding is not None and binding.activated_at else None
        return "already_activated", {"activated_at": when}
    if here < index:
        return "not_printed", {"step_name": app.steps[here].get("name_id"), "due_date": app.due_date.isoformat()}
    if binding is None:
        return "not_bound", {}
    if binding.blocked_at is not None:
        return "activation_blocked", {"failures": binding.fingerprint_failures}
    return None, {}


def officer_desk(session: Session, actor: Actor) -> tuple[int | None, int | None]:
    """(counter id, current ticket id) of the counter the officer has open, if any."""
    counter = session.scalars(select(Counter).where(Counter.officer_id == actor.id,
                                                    Counter.state != CounterState.CLOSED.value)).first()
    if counter is None:
        return None, None
    ticket = session.scalars(select(Ticket).where(Ticket.counter_id == counter.id, Ticket.status.in_(("called", "serving")))
                             .order_by(Ticket.id.desc())).first()
    return counter.id, ticket.id if ticket else None


def open_activation(session: Session, device_id: int, ref: str, *, actor: Actor, signer: ResiSigner,
                    now: datetime | None = None) -> Activation:
    """Open the station's session for the application named by ``ref`` (signed resi QR
    payload or its status URL, typed resi number, or the applicant's 16-digit NIK); a
    session already open at the station is cancelled. A card already on the reader is
    matched at once. Audit ``activation.opened``. Raises NotFound (station), CardRefused
    (see the module docstring)."""
    now = now or utcnow()
    device = reader_station(session, device_id, actor.office_id)
    office = session.get(Office, device.office_id)
    if office is None:
        raise NotFound(key="error.not_found.office")
    app, code = _find(session, office, ref, signer)
    details: dict = {}
    if app is not None:
        code, details = _state_refusal(session, app)
    if code is not None:
        raise refuse(session, office.id, actor, code, device_id=device.id, application_id=app.id if app else None,
                     http_status=404 if code in ("resi_unknown", "application_unknown") else 409, now=now, **details)
    assert app is not None  # _find names a file or a refusal code
    for old in session.scalars(select(Activation).where(Activation.status == OPEN, (
            (Activation.device_id == device.id) | (Activation.application_id == app.id)))):
        old.status, old.closed_at, old.version = ActivationStatus.CANCELLED.value, now, old.version + 1
    counter_id, ticket_id = officer_desk(session, actor)
    activation = Activation(office_id=office.id, device_id=device.id, application_id=app.id, ticket_id=ticket_id,
                            counter_id=counter_id, officer_id=actor.id, status=OPEN, opened_at=now, card_state="waiting",
                            attempts=0, failures=0, fingerprint_ok=False, in_person=False, identity_checked=False,
                            version=1)
    session.add(activation)
    session.flush()
    card = station_card(session, device.id)
    if card is not None and card.present and card.uid:
        _match(session, activation, card.uid, card.atr, card.reader, now)
    audit.record(session, actor, "activation.opened", "application", app.id, office_id=office.id, at=now,
                 data={"activation_id": activation.id, "device_id": device.id, "ticket_id": ticket_id})
    publish(session, activation)
    return activation


def _match(session: Session, activation: Activation, uid: str, atr: str | None, reader: str | None,
           now: datetime) -> None:
    activation.card_uid, activation.card_atr, activation.card_reader, activation.card_at = uid, atr, reader, now
    binding = binding_by_uid(session, uid)
    if binding is None:
        refusal = "unknown_card"
    elif binding.activated_at is not None:  # an activated card, whichever file it is tapped for
        refusal = "already_activated"
    elif binding.application_id != activation.application_id:
        refusal = "bound_elsewhere"
    else:
        refusal = None
    activation.card_state, activation.card_refusal = ("match", None) if refusal is None else ("mismatch", refusal)
    activation.version += 1
    if refusal is not None:
        audit.record(session, Actor("device", activation.device_id, office_id=activation.office_id),
                     "activation.card_refused", "application", activation.application_id,
                     office_id=activation.office_id, at=now, data={"reason": refusal, "uid": uid, "reader": reader})


def on_card_event(session: Session, device: Device, event: dict, now: datetime | None = None) -> Activation | None:
    """Match a station's card event against its open session: ``inserted`` → match or
    mismatch (with the reason); ``removed`` / ``reader_removed`` → removed. Returns the
    session (changed and published) or None when none is open."""
    now = now or utcnow()
    activation = open_session(session, device.id)
    if activation is None:
        return None
    kind = event.get("event")
    if kind == "inserted":
        card = station_card(session, device.id)
        if card is None or not card.present or not card.uid:
            return None
        _match(session, activation, card.uid, card.atr, card.reader, now)
    elif kind in ("removed", "reader_removed"):
        if activation.card_state == "waiting":
            return None
        activation.card_state, activation.card_at = "removed", now
        activation.version += 1
    else:
        return None
    publish(session, activation)
    return activation


def _current(session: Session, device_id: int, actor: Actor, expected_version: int | None) -> Activation:
    reader_station(session, device_id, actor.office_id)
    activation = open_session(session, device_id)
    if activation is None:
        raise InvalidState(key="error.activation.no_open_session")
    if expected_version is not None and activation.version != expected_version:
        raise VersionConflict(key="error.activation.changed", current_version=activation.version)
    return activation


def record_fingerprint(session: Session, device_id: int, result: str, *, actor: Actor,
                       expected_version: int | None = None, now: datetime | None = None) -> Activation:
    """Record one fingerprint verification as the officer read it on the certified reader
    (``result``: "match" or "no_match"). A failure counts on the card binding; the 4th
    blocks the file (audit ``activation.blocked``) and the session with it: the answer then
    shows ``blocked``; a later attempt is refused ``activation_blocked``.
    Raises ValidationError, InvalidState, CardRefused."""
    now = now or utcnow()
    if result not in ("match", "no_match"):
        raise ValidationError(key="error.activation.fingerprint_result", field="result")
    activation = _current(session, device_id, actor, expected_version)
    binding = binding_of(session, activation.application_id)
    if binding is None:  # open_activation refuses a file without a bound card
        raise refuse(session, activation.office_id, actor, "not_bound", device_id=device_id,
                     application_id=activation.application_id, now=now)
    if binding.blocked_at is not None:
        raise refuse(session, activation.office_id, actor, "activation_blocked", device_id=device_id,
                     application_id=activation.application_id, now=now, failures=binding.fingerprint_failures)
    activation.attempts += 1
    if result == "match":
        activation.fingerprint_ok = True
    else:
        activation.failures += 1
        activation.fingerprint_ok = False
        binding.fingerprint_failures += 1
        if binding.fingerprint_failures >= MAX_FINGERPRINT_FAILURES:
            binding.blocked_at = now
            audit.record(session, actor, "activation.blocked", "application", activation.application_id,
                         office_id=activation.office_id, at=now, data={"failures": binding.fingerprint_failures})
    activation.version += 1
    audit.record(session, actor, "activation.fingerprint", "application", activation.application_id,
                 office_id=activation.office_id, at=now,
                 data={"result": result, "attempt": activation.attempts, "source": "officer"})
    publish(session, activation)
    return activation


def complete(session: Session, device_id: int, *, actor: Actor, in_person: bool, identity_checked: bool,
             expected_version: int | None = None, shelf_location: str | None = None,
             now: datetime | None = None) -> Activation:
    """Complete the activation: the bound card on the reader now, a verified fingerprint,
    the applicant present in person and identity checked. Records the activation (officer,
    counter, reader, time, UID, attempts: audit ``activation.completed``) and moves the file
    from ``activate`` to the hand-over (ready). Raises InvalidState, CardRefused
    (card_not_present, card_mismatch, fingerprint_not_verified, checklist_incomplete,
    activation_blocked)."""
    now = now or utcnow()
    activation = _current(session, device_id, actor, expected_version)
    binding = binding_of(session, activation.application_id)
    card = station_card(session, device_id)

    def no(code: str, **details) -> CardRefused:
        return refuse(session, activation.office_id, actor, code, device_id=device_id,
                      application_id=activation.application_id, now=now, **details)

    if binding is None:  # open_activation refuses a file without a bound card
        raise no("not_bound")
    if binding.blocked_at is not None:
        raise no("activation_blocked", failures=binding.fingerprint_failures)
    if card is None or not card.present or not card.uid:
        raise no("card_not_present")
    if card.uid != binding.uid or activation.card_state != "match" or activation.card_uid != card.uid:
        raise no("card_mismatch")
    if not activation.fingerprint_ok:
        raise no("fingerprint_not_verified")
    if not (in_person and identity_checked):
        raise no("checklist_incomplete", in_person=bool(in_person), identity_checked=bool(identity_checked))
    app = session.get(Application, activation.application_id)
    if app is None:
        raise NotFound(key="error.not_found.application")
    chain.approve(session, app.id, actor=actor, expected_version=app.version, shelf_location=shelf_location,
                  now=now, via_activation=True)
    activation.status, activation.closed_at = ActivationStatus.COMPLETED.value, now
    activation.in_person, activation.identity_checked = True, True
    activation.version += 1
    binding.activated_at = now
    audit.record(session, actor, "activation.completed", "application", app.id, office_id=activation.office_id,
                 at=now, data={"activation_id": activation.id, "device_id": device_id, "counter_id": activation.counter_id,
                               "reader": card.reader, "uid": card.uid, "attempts": activation.attempts,
                               "failures": activation.failures, "ticket_id": activation.ticket_id})
    publish(session, activation)
    return activation


def cancel(session: Session, device_id: int, *, actor: Actor, now: datetime | None = None) -> Activation | None:
    """Close the station's open session without activating (audit ``activation.cancelled``);
    None when nothing was open."""
    now = now or utcnow()
    reader_station(session, device_id, actor.office_id)
    activation = open_session(session, device_id)
    if activation is None:
        return None
    activation.status, activation.closed_at = ActivationStatus.CANCELLED.value, now
    activation.version += 1
    audit.record(session, actor, "activation.cancelled", "application", activation.application_id,
                 office_id=activation.office_id, at=now, data={"activation_id": activation.id})
    publish(session, activation)
    return activation


def release(session: Session, application_id: int, reason: str, *, actor: Actor, now: datetime | None = None) -> None:
    """A section head (or admin) releases a file blocked after 4 failed fingerprint
    verifications: the failure count starts again (audit ``activation.released``
    {"reason", "failures"}). Raises Forbidden, NotFound, InvalidState, ValidationError."""
    now = now or utcnow()
    if actor.role not in RELEASE_ROLES:
        raise Forbidden(key="error.activation.release_role")
    text = (reason or "").strip()
    if not 1 <= len(text) <= 300:
        raise ValidationError(key="error.activation.release_reason", field="reason")
    app = session.get(Application, application_id)
    binding = binding_of(session, application_id)
    if app is None or not actor.may_access(app.office_id):
        raise CardRefused("application_unknown", key="error.activation.refusal.application_unknown", http_status=404)
    if binding is None or binding.blocked_at is None:
        raise InvalidState(key="error.activation.not_blocked")
    failures = binding.fingerprint_failures
    binding.blocked_at, binding.fingerprint_failures = None, 0
    audit.record(session, actor, "activation.released", "application", app.id, office_id=app.office_id, at=now,
                 data={"reason": text, "failures": failures})
    activation = session.scalars(select(Activation).where(Activation.application_id == app.id, Activation.status == OPEN)).first()
    if activation is not None:
        activation.version += 1
        publish(session, activation)


def publish(session: Session, activation: Activation) -> None:
    """Send the session's view to its station's pages (``activation`` event, after commit)."""
    session.flush()
    events.publish_after_commit(session, events.DomainEvent(events.STATION_EVENT, activation.office_id, {
        "device_id": activation.device_id, "kind": "activation", "event": {"session": view(session, activation)}}))
