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

from flask import current_app
from sqlalchemy.orm import Session

from ..models import Application, Counter, Role, Ticket, utcnow
from ..security import current_actor
from ..services.activation import cards, sessions
from ..services.activation.texts import view
from ..services.applications import STALE
from ..services.errors import InvalidState, VersionConflict
from ..services.notices.subscriber import on_application_changed
from . import bp
from .contract import access, errors
from .files_helpers import application_for_staff, run_at_version
from .helpers import transaction
from .resi import resi_signer
from .schemas.activation import (
    BindCardBody, CompleteBody, FingerprintBody, OpenBody, ReleaseBody, SessionAnswer, StationAnswer,
)
from .schemas.applications import CardAnswer
from .schemas.common import OkAnswer

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


def _station_state(s: Session, device_id: int) -> dict:
    """The station: its reader's health, the card on it, the officer's desk."""
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


def _session(s: Session, activation) -> dict:
    """``{"session": SESSION or None}``."""
    return {"session": view(s, activation) if activation is not None else None}


@bp.get("/activation/<int:device_id>", tags=["activation"])
@access(roles=ACTIVATION_ROLES)
@bp.response(200, StationAnswer)
@errors(404)
def activation_state(device_id: int):
    """The station: its reader's health, the card on it, the officer's desk (open counter
    and its called or served ticket), and the open session. 404 not an activation station
    of your office."""
    with transaction() as s:
        return {"station": _station_state(s, device_id), **_session(s, sessions.open_session(s, device_id))}


@bp.post("/activation/<int:device_id>/open", tags=["activation"])
@access(roles=ACTIVATION_ROLES)
@bp.arguments(OpenBody)
@bp.response(200, SessionAnswer)
@errors(404, 409)
def activation_open(data: dict, device_id: int):
    """Open the station's activation for a file found by ``ref`` (resi QR payload, its
    status URL, a typed resi number, or the applicant's 16-digit NIK). A card already on the
    reader is matched at once. 404 ``resi_unknown``, ``application_unknown`` or no such
    station; 409 resi_forged, resi_malformed, resi_foreign, resi_wrong_office, not_ktp,
    not_printed, already_activated, not_bound, activation_blocked."""
    def run():
        with transaction() as s:
            return _session(s, sessions.open_activation(s, device_id, data["ref"], actor=current_actor(),
                                                        signer=resi_signer()))
    return _refusing(run)


@bp.post("/activation/<int:device_id>/fingerprint", tags=["activation"])
@access(roles=ACTIVATION_ROLES)
@bp.arguments(FingerprintBody)
@bp.response(200, SessionAnswer)
@errors(404, 409)
def activation_fingerprint(data: dict, device_id: int):
    """Record the certified reader's fingerprint result as the officer read it. The 4th
    failure since the last release blocks the file (the answer shows
    ``fingerprint.blocked``). 409 activation_blocked, version_conflict, or nothing open."""
    def run():
        with transaction() as s:
            return _session(s, sessions.record_fingerprint(s, device_id, data["result"], actor=current_actor(),
                                                           expected_version=data["expected_version"]))
    return _refusing(run)


@bp.post("/activation/<int:device_id>/complete", tags=["activation"])
@access(roles=ACTIVATION_ROLES)
@bp.arguments(CompleteBody)
@bp.response(200, SessionAnswer)
@errors(404, 409)
def activation_complete(data: dict, device_id: int):
    """Complete the activation (``in_person`` and ``identity_checked`` must be true). The
    bound card must be on the reader and the fingerprint verified; the file moves to the
    hand-over (ready, ``shelf_location`` optional) and the Drive-Thru / pickup counter
    accepts it. 409 card_not_present, card_mismatch, fingerprint_not_verified,
    checklist_incomplete, activation_blocked, version_conflict."""
    now = utcnow()

    def run():
        with transaction() as s:
            activation = sessions.complete(
                s, device_id, actor=current_actor(), in_person=data["in_person"] is True,
                identity_checked=data["identity_checked"] is True, expected_version=data["expected_version"],
                shelf_location=data["shelf_location"], now=now)
            app = s.get(Application, activation.application_id)
            on_application_changed(s, app, providers=current_app.extensions["loket_notice_providers"], now=now)
            return _session(s, activation)
    try:
        return _refusing(run)
    except InvalidState as exc:
        if exc.message != STALE:
            raise
        raise VersionConflict(key="api.files.activation_file_changed") from None


@bp.post("/activation/<int:device_id>/cancel", tags=["activation"])
@access(roles=ACTIVATION_ROLES)
@bp.response(200, SessionAnswer)
@errors(404)
def activation_cancel(device_id: int):
    """Close the station's open activation without activating: ``{"session": null}``."""
    with transaction() as s:
        sessions.cancel(s, device_id, actor=current_actor())
        return {"session": None}


@bp.post("/applications/<int:application_id>/activation-release", tags=["activation"])
@access(roles=(Role.SECTION_HEAD.value, Role.ADMIN.value))
@bp.arguments(ReleaseBody)
@bp.response(200, OkAnswer)
@errors(404, 409)
def activation_release(data: dict, application_id: int):
    """A section head releases a file blocked after 4 failed fingerprint verifications,
    with a reason (1-300 characters). 409 not blocked."""
    with transaction() as s:
        application_for_staff(s, application_id)
        sessions.release(s, application_id, data["reason"], actor=current_actor())
        return {"ok": True}


@bp.post("/applications/<int:application_id>/card", tags=["activation"])
@access(roles=())
@bp.arguments(BindCardBody)
@bp.response(200, CardAnswer)
@errors(404, 409)
def bind_card(data: dict, application_id: int):
    """Bind the printed KTP-el on the reader of station ``device_id`` to the file (print
    step, the printing operator). 409 not_ktp, not_at_print, no_card, bound_elsewhere,
    already_activated, version_conflict."""
    def run(s: Session) -> dict:
        application_for_staff(s, application_id)
        binding = cards.bind_card(s, application_id, data["device_id"], actor=current_actor(),
                                  expected_version=data["expected_version"])
        return {"card": cards.binding_view(binding)}

    return run_at_version(application_id, data["expected_version"], run)
