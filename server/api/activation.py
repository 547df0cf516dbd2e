"""The KTP-el activation counter and the card bound at print (issue 5).

``<device_id>`` is an ``activation`` station: a PC/SC card reader whose agent
(``loket agent activation``) sends ``card`` events. The station page
(``/activation/<device_id>``) calls these and follows the station's Socket.IO room, which
receives each ``card`` event and an ``activation`` event {"session": SESSION} after every
change (shape in ``services.activation.texts.view``).

Refusals answer ``{"error": code, "message", "details"}`` (codes in
``services.activation.sessions``) and are audited as ``activation.refused`` in their own
transaction, the refused change itself rolled back.

What the card proves: the KTP-el chip is contactless ISO 14443; without Dukcapil's SAM
only its UID and ATR are readable. The UID says "this is the card printed for this
application", never who holds it: the officer checks the person's identity, and the
fingerprint is verified on Dukcapil's certified reader, whose result the officer records.
"""
from __future__ import annotations

from flask import current_app, jsonify
from sqlalchemy import select

from ..models import Application, Counter, Device, DeviceKind, Role, Ticket, utcnow
from ..security import current_actor, require
from ..services.activation import cards, sessions
from ..services.activation.texts import view
from ..services.applications import STALE
from ..services.errors import InvalidState, ValidationError, VersionConflict
from ..services.notices.subscriber import on_application_changed
from . import bp
from .helpers import (
    FILE_VERSION, application_for_staff, body, expected_version, int_arg, transaction, version_conflict,
)
from .resi import resi_signer

ACTIVATION_ROLES = (Role.ACTIVATION_OFFICER.value, Role.SECTION_HEAD.value, Role.ADMIN.value)


def _refusing(fn):
    """Run ``fn()`` (which opens its own transaction); a CardRefused from the activation
    services is audited in a new transaction and re-raised for the error handler."""
    try:
        return fn()
    except cards.CardRefused as exc:
        with transaction() as s:
            sessions.record_refusal(s, exc)
        raise


def _station_state(s, device_id: int) -> dict:
    device = cards.reader_station(s, device_id, current_actor().office_id)
    reader = (device.health or {}).get("card_reader") or {}
    card = cards.station_card(s, device_id)
    counter_id, ticket_id = sessions.officer_desk(s, current_actor())
    counter, ticket = s.get(Counter, counter_id) if counter_id else None, s.get(Ticket, ticket_id) if ticket_id else None
    return {"id": device.id, "name": device.name,
            "desk": {"counter": counter.number if counter else None,
                     "ticket": ticket.display_number if ticket else None,
                     "ticket_status": ticket.status if ticket else None},
            "reader": {"state": reader.get("state"), "detail": reader.get("detail")},
            "card": {"present": bool(card and card.present), "uid": card.uid if card else None,
                     "reader": card.reader if card else None, "at": card.at.isoformat() if card else None}}


def _session(s, activation) -> dict | None:
    return view(s, activation) if activation is not None else None


@bp.get("/activation/<int:device_id>")
@require(roles=ACTIVATION_ROLES)
def activation_state(device_id: int):
    """The station: its reader's health, the card on it, and the open session.
    ---
    get:
      tags: [activation]
      parameters: [{in: path, name: device_id, required: true, schema: {type: integer}}]
      responses:
        200: {description: '{"station": {"id", "name", "desk": {"counter", "ticket", "ticket_status"} (the officer''s open counter and its called or served ticket), "reader": {"state", "detail"}, "card": {"present", "uid", "reader", "at"}}, "session": SESSION or null}'}
        404: {description: not an activation station of your office}
    """
    with transaction() as s:
        station = _station_state(s, device_id)
        return jsonify(station=station, session=_session(s, sessions.open_session(s, device_id)))


@bp.post("/activation/<int:device_id>/open")
@require(roles=ACTIVATION_ROLES)
def activation_open(device_id: int):
    """Open the station's activation for a file: body {"ref": resi QR payload, its status
    URL, a typed resi number, or the applicant's 16-digit NIK}. A card already on the
    reader is matched at once.
    ---
    post:
      tags: [activation]
      parameters: [{in: path, name: device_id, required: true, schema: {type: integer}}]
      responses:
        200: {description: '{"session": SESSION}'}
        404: {description: 'resi_unknown, application_unknown, or no such station'}
        409: {description: 'resi_forged, resi_malformed, resi_foreign, resi_wrong_office, not_ktp, not_printed, already_activated, not_bound, activation_blocked'}
    """
    ref = str(body().get("ref") or "")
    if not ref.strip():
        raise ValidationError("pindai resi atau ketik nomor resi / NIK / scan or type a resi or NIK", field="ref")

    def run():
        with transaction() as s:
            activation = sessions.open_activation(s, device_id, ref, actor=current_actor(), signer=resi_signer())
            return jsonify(session=view(s, activation))
    return _refusing(run)


@bp.post("/activation/<int:device_id>/fingerprint")
@require(roles=ACTIVATION_ROLES)
def activation_fingerprint(device_id: int):
    """Record the certified reader's fingerprint result as the officer read it: body
    {"result": "match" | "no_match", "expected_version"}. The 4th failure since the last
    release blocks the file (the answer shows ``fingerprint.blocked``).
    ---
    post:
      tags: [activation]
      parameters: [{in: path, name: device_id, required: true, schema: {type: integer}}]
      responses:
        200: {description: '{"session": SESSION}'}
        409: {description: 'activation_blocked, version_conflict, or nothing open'}
        422: {description: result is not match or no_match}
    """
    data = body()

    def run():
        with transaction() as s:
            activation = sessions.record_fingerprint(s, device_id, str(data.get("result") or ""),
                                                     actor=current_actor(),
                                                     expected_version=int_arg(data, "expected_version", lo=1))
            return jsonify(session=view(s, activation))
    return _refusing(run)


@bp.post("/activation/<int:device_id>/complete")
@require(roles=ACTIVATION_ROLES)
def activation_complete(device_id: int):
    """Complete the activation: body {"in_person": true, "identity_checked": true,
    "expected_version", "shelf_location": optional}. The bound card must be on the reader
    and the fingerprint verified; the file moves to the hand-over (ready) and the
    Drive-Thru / pickup counter accepts it.
    ---
    post:
      tags: [activation]
      parameters: [{in: path, name: device_id, required: true, schema: {type: integer}}]
      responses:
        200: {description: '{"session": SESSION (completed)}'}
        409: {description: 'card_not_present, card_mismatch, fingerprint_not_verified, checklist_incomplete, activation_blocked, version_conflict'}
    """
    data = body()
    now = utcnow()

    def run():
        with transaction() as s:
            activation = sessions.complete(
                s, device_id, actor=current_actor(), in_person=data.get("in_person") is True,
                identity_checked=data.get("identity_checked") is True,
                expected_version=int_arg(data, "expected_version", lo=1),
                shelf_location=data.get("shelf_location"), now=now)
            app = s.get(Application, activation.application_id)
            on_application_changed(s, app, providers=current_app.extensions["loket_notice_providers"], now=now)
            return jsonify(session=view(s, activation))
    try:
        return _refusing(run)
    except InvalidState as exc:
        if exc.message != STALE:
            raise
        raise VersionConflict("Berkas berubah oleh petugas lain, muat ulang / the file changed: reload") from None


@bp.post("/activation/<int:device_id>/cancel")
@require(roles=ACTIVATION_ROLES)
def activation_cancel(device_id: int):
    """Close the station's open activation without activating.
    ---
    post:
      tags: [activation]
      parameters: [{in: path, name: device_id, required: true, schema: {type: integer}}]
      responses:
        200: {description: '{"session": null}'}
    """
    with transaction() as s:
        sessions.cancel(s, device_id, actor=current_actor())
        return jsonify(session=None)


@bp.post("/applications/<int:application_id>/activation-release")
@require(roles=(Role.SECTION_HEAD.value, Role.ADMIN.value))
def activation_release(application_id: int):
    """A section head releases a file blocked after 4 failed fingerprint verifications:
    body {"reason"}.
    ---
    post:
      tags: [activation]
      parameters: [{in: path, name: application_id, required: true, schema: {type: integer}}]
      responses:
        200: {description: '{"ok": true}'}
        409: {description: not blocked}
    """
    reason = str(body().get("reason") or "")
    with transaction() as s:
        application_for_staff(s, application_id)
        sessions.release(s, application_id, reason, actor=current_actor())
        return jsonify(ok=True)


@bp.post("/applications/<int:application_id>/card")
@require(roles=())
def bind_card(application_id: int):
    """Bind the printed KTP-el on a reader to the file (print step, the printing
    operator): body {"device_id": the activation station whose reader holds the card,
    "expected_version"}.
    ---
    post:
      tags: [activation]
      parameters: [{in: path, name: application_id, required: true, schema: {type: integer}}]
      responses:
        200: {description: '{"card": {"uid", "atr", "reader", "bound_at", ...}}'}
        409: {description: 'not_ktp, not_at_print, no_card, bound_elsewhere, already_activated, version_conflict'}
    """
    data = body()
    expected = expected_version(data, *FILE_VERSION)
    device_id = int_arg(data, "device_id", lo=1)
    if device_id is None:
        raise ValidationError("device_id wajib (stasiun pembaca kartu) / device_id is required", field="device_id")
    try:
        with transaction() as s:
            application_for_staff(s, application_id)
            binding = cards.bind_card(s, application_id, device_id, actor=current_actor(), expected_version=expected)
            return jsonify(card=cards.binding_view(binding))
    except InvalidState as exc:
        if exc.message != STALE:
            raise
    raise version_conflict(application_id, expected)


def card_readers(s, office_id: int) -> list[dict]:
    """The office's active card reader stations [{"id", "name"}] (for the bind dialog)."""
    return [{"id": d.id, "name": d.name} for d in s.scalars(select(Device).where(
        Device.office_id == office_id, Device.kind == DeviceKind.ACTIVATION.value, Device.active.is_(True)))]
