"""The pickup station (Drive-Thru lane or ordinary pickup counter, issue 4): look up a
scanned or typed resi, and hand the document over. For pickup officers (and admins) of the
station's office; ``<device_id>`` is the pickup device (its camera agent feeds ``scan``
events to the station page, which calls these).

Each look-up and hand-over also tells the citizen's lane screen (``/pickup/<id>/lane``)
what to show: a ``lane`` event to the station's Socket.IO room (published after commit
as ``STATION_EVENT`` with kind "lane"), holding a state and a masked name only.
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session

from ..i18n import current_language
from ..models import Device, DeviceKind, Office, Role, utcnow
from ..security import current_actor, require_office
from ..services import events
from ..services.applications.pickup import (
    PickupRefused, hand_over_at_station, lane_view, lookup_scan, record_refusal, station_view,
)
from ..services.errors import NotFound
from ..services.nik import mask_name
from . import bp
from .contract import access, errors
from .files_helpers import run_at_version
from .helpers import transaction
from .presenters import application_detail
from .resi import resi_signer
from .schemas.applications import ApplicationAnswer
from .schemas.pickup import LookupAnswer, LookupBody, StationHandOverBody

PICKUP_ROLES = (Role.PICKUP_OFFICER.value, Role.ADMIN.value)
#: Refusals of a hand-over that the citizen's lane screen shows.
_LANE_REFUSALS = ("already_collected", "not_ready", "ktp_not_activated", "cancelled")


def _station(s: Session, device_id: int) -> tuple[Device, Office]:
    """The active pickup device ``device_id`` and its office: 404 when none, 403 another office."""
    device = s.get(Device, device_id)
    if device is None or device.kind != DeviceKind.PICKUP.value or not device.active:
        raise NotFound(key="api.files.pickup_station_not_found")
    require_office(device.office_id)
    return device, s.get(Office, device.office_id)


def _lane(s: Session, device: Device, view: dict) -> None:
    events.publish_after_commit(s, events.DomainEvent(
        events.STATION_EVENT, device.office_id, {"device_id": device.id, "kind": "lane", "event": view}))


def _record_refusal(device_id: int, application_id: int, exc: PickupRefused, now) -> None:
    """Audit a refused hand-over in its own transaction and show it on the lane screen."""
    reason = exc.details.get("reason")
    with transaction() as s:
        device, office = _station(s, device_id)
        details = {k: v for k, v in exc.details.items() if k != "reason"}
        record_refusal(s, office.id, current_actor(), application_id if reason != "unknown" else None, reason,
                       device_id=device.id, details=details, now=now)
        if reason in _LANE_REFUSALS:
            _lane(s, device, {"state": "refused", "refusal": reason})


@bp.post("/pickup/<int:device_id>/lookup", tags=["pickup"])
@access(roles=PICKUP_ROLES)
@bp.arguments(LookupBody)
@bp.response(200, LookupAnswer)
@errors(404)
def pickup_lookup(data: dict, device_id: int):
    """Look up a scanned resi QR (payload or status URL) or a typed resi number at a pickup
    station. Always 200 when the station exists: ``{"result": "ok", "application",
    "checks", "delegable"}`` or ``{"result": "refused", "refusal", "message", "details"}``
    (refusals are audited). 403 not a pickup officer of the station's office, 404 no such
    pickup station."""
    now = utcnow()
    with transaction() as s:
        device, office = _station(s, device_id)
        result = lookup_scan(s, office, data["code"], resi_signer(), now, actor=current_actor(), device_id=device.id)
        _lane(s, device, lane_view(result))
        return station_view(result, current_language())


@bp.post("/pickup/<int:device_id>/hand-over", tags=["pickup"])
@access(roles=PICKUP_ROLES)
@bp.arguments(StationHandOverBody)
@bp.response(200, ApplicationAnswer)
@errors(404, 409)
def pickup_hand_over(data: dict, device_id: int):
    """Hand the document over at the station, against the collector's signature and an
    optional photo (JPEG/PNG by its bytes, must decode). The signature is stored as
    ``signatures/<id>.png`` and the photo as ``photos/<id>.jpg|png`` under DATA_DIR
    (``collector.signature`` / ``collector.photo`` hold those paths; no ``photo`` key
    without a photo), only when the hand-over succeeds. 409 ``pickup_refused`` with
    ``details.reason`` (nik_mismatch, not_delegable, or a look-up refusal such as
    already_collected; audited), 409 ``version_conflict``, 422 validation errors (``field``
    signature or photo: too large, not JPEG/PNG, damaged)."""
    app_id, version, now = data["application_id"], data["expected_version"], utcnow()

    def run(s: Session) -> dict:
        device, office = _station(s, device_id)
        app = hand_over_at_station(
            s, office, app_id, collector=data["collector"], signature=data["signature"], photo=data["photo"],
            data_dir=current_app.config["DATA_DIR"], actor=current_actor(), expected_version=version,
            device_id=device.id, now=now)
        _lane(s, device, {"state": "collected", "name": mask_name(app.applicant_name)})
        return {"application": application_detail(s, app, now)}

    try:
        return run_at_version(app_id, version, run)
    except PickupRefused as exc:
        _record_refusal(device_id, app_id, exc, now)
        raise
