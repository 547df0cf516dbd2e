"""The pickup station (Drive-Thru lane or ordinary pickup counter, issue 4): look up a
scanned or typed resi, and hand the document over. For pickup officers (and admins) of the
station's office; ``<device_id>`` is the pickup device (its camera agent feeds ``scan``
events to the station page, which calls these).

Each look-up and hand-over also tells the citizen's lane screen (``/pickup/<id>/lane``)
what to show: a ``lane`` event to the station's Socket.IO room (published after commit
as ``STATION_EVENT`` with kind "lane"), holding a state and a masked name only.
"""
from __future__ import annotations

from flask import abort, current_app, jsonify
from sqlalchemy.orm import Session

from ..i18n import current_language
from ..models import Device, DeviceKind, Office, Role, utcnow
from ..security import current_actor, office_allowed, require
from ..services import events
from ..services.applications import STALE
from ..services.applications.pickup import (
    PickupRefused, hand_over_at_station, lane_view, lookup_scan, record_refusal, station_view,
)
from ..services.errors import InvalidState, NotFound, ValidationError
from ..services.nik import mask_name
from . import bp
from .helpers import body, int_arg, transaction, version_conflict
from .presenters import application_detail
from .resi import resi_signer

PICKUP_ROLES = (Role.PICKUP_OFFICER.value, Role.ADMIN.value)


def _station(s: Session, device_id: int) -> tuple[Device, Office]:
    device = s.get(Device, device_id)
    if device is None or device.kind != DeviceKind.PICKUP.value or not device.active:
        raise NotFound("stasiun pengambilan tidak ditemukan / pickup station not found")
    if not office_allowed(device.office_id):
        abort(403)
    return device, s.get(Office, device.office_id)


def _lane(s: Session, device: Device, view: dict) -> None:
    events.publish_after_commit(s, events.DomainEvent(
        events.STATION_EVENT, device.office_id, {"device_id": device.id, "kind": "lane", "event": view}))


@bp.post("/pickup/<int:device_id>/lookup")
@require(roles=PICKUP_ROLES)
def pickup_lookup(device_id: int):
    """Look up a scanned resi QR (payload or status URL) or a typed resi number at a pickup
    station. Always 200 when the station exists: ``{"result": "ok", "application",
    "checks", "delegable"}`` or ``{"result": "refused", "refusal": forged | malformed |
    foreign | wrong_office | unknown | not_ready | ktp_not_activated | already_collected |
    cancelled, "message", "details"}`` (refusals are audited).
    ---
    post:
      tags: [pickup]
      parameters: [{in: path, name: device_id, required: true, schema: {type: integer}}]
      requestBody:
        content:
          application/json:
            schema: {type: object, required: [code], properties: {code: {type: string}}}
      responses:
        200: {description: look-up result or refusal}
        403: {description: not a pickup officer of the station's office}
        404: {description: no such pickup station}
        422: {description: no code}
    """
    data = body()
    code = data.get("code")
    if not isinstance(code, str) or not 0 < len(code.strip()) <= 512:
        raise ValidationError("kode resi wajib diisi / code is required", field="code")
    now = utcnow()
    with transaction() as s:
        device, office = _station(s, device_id)
        result = lookup_scan(s, office, code, resi_signer(), now, actor=current_actor(), device_id=device.id)
        view = station_view(result, current_language())
        _lane(s, device, lane_view(result))
        return jsonify(view)


@bp.post("/pickup/<int:device_id>/hand-over")
@require(roles=PICKUP_ROLES)
def pickup_hand_over(device_id: int):
    """Hand the document over at the station. Body {"application_id", "expected_version",
    "collector": {"kind": "applicant", "nik"} | {"kind": "representative", "name", "nik",
    "relation", "letter_number"}, "signature": "data:image/png;base64,...", "photo":
    optional "data:image/jpeg;base64,..." or "data:image/png;base64,..." (the collector's
    photo, at most 1.5 MB decoded, JPEG/PNG by its bytes, must decode)}. The signature is
    stored as ``signatures/<id>.png`` and the photo as ``photos/<id>.jpg|png`` under
    DATA_DIR (``collector.signature`` / ``collector.photo`` hold those paths; no ``photo``
    key without a photo), only when the hand-over succeeds. 409 ``pickup_refused`` with
    ``details.reason`` (nik_mismatch, not_delegable, or a look-up refusal such as
    already_collected), 409 ``version_conflict``, 422 validation errors (``field``
    signature or photo: too large, not JPEG/PNG, damaged).
    ---
    post:
      tags: [pickup]
      parameters: [{in: path, name: device_id, required: true, schema: {type: integer}}]
      requestBody:
        content:
          application/json:
            schema:
              type: object
              required: [application_id, expected_version, collector, signature]
              properties:
                application_id: {type: integer}
                expected_version: {type: integer}
                collector: {type: object}
                signature: {type: string, description: 'data:image/png;base64 URL, at most 300 kB decoded'}
                photo: {type: string, description: 'optional data:image/jpeg|png;base64 URL, at most 1.5 MB decoded'}
      responses:
        200: {description: '{"application": staff view (status collected, collector)}'}
        409: {description: pickup_refused or version_conflict}
        422: {description: validation_error (collector fields, signature, photo)}
    """
    data = body()
    app_id = int_arg(data, "application_id", lo=1)
    version = int_arg(data, "expected_version", lo=1)
    if app_id is None or version is None:
        raise ValidationError("application_id dan expected_version wajib / application_id and expected_version "
                              "are required", field="application_id" if app_id is None else "expected_version")
    now = utcnow()
    try:
        with transaction() as s:
            device, office = _station(s, device_id)
            app = hand_over_at_station(
                s, office, app_id, collector=data.get("collector"), signature=data.get("signature"),
                photo=data.get("photo"), data_dir=current_app.config["DATA_DIR"], actor=current_actor(), expected_version=version,
                device_id=device.id, now=now)
            _lane(s, device, {"state": "collected", "name": mask_name(app.applicant_name)})
            return jsonify(application=application_detail(s, app, now))
    except PickupRefused as exc:
        with transaction() as s:  # the refusal is audited and shown on the lane screen
            device, office = _station(s, device_id)
            details = {k: v for k, v in exc.details.items() if k != "reason"}
            record_refusal(s, office.id, current_actor(), app_id if exc.details.get("reason") != "unknown" else None,
                           exc.details.get("reason"), device_id=device.id, details=details, now=now)
            if exc.details.get("reason") in ("already_collected", "not_ready", "ktp_not_activated", "cancelled"):
                _lane(s, device, {"state": "refused", "refusal": exc.details.get("reason")})
        raise
    except InvalidState as exc:
        if exc.message != STALE:
            raise
    raise version_conflict(app_id, version)
