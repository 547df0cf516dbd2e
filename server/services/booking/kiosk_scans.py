"""A code read by a kiosk's own QR scanner or camera (issue 6, kiosk check-in).

The kiosk agent (``kiosk/scanning.py``) sends every new code it reads as ``scan``
{"code", "source"}; :func:`record_kiosk_scan` says what the code is and passes the answer
to **that kiosk's page only** (the ``booking_scan`` message in the room of the kiosk's
device, ``server.realtime.emitter.station_room``), never to another screen:

- a genuine booking QR of this office (``LKB1.<office>.<code>.<id>.<sig>``, or a typed
  booking code in a barcode): ``{"ok": true, "ref": the payload, "code": "K7QM-2XDA"}``;
  the page opens its check-in screen with the code filled in and asks for the NIK's last
  6 digits (the booking stays personal: nothing else about it is told before that);
- anything else: ``{"ok": false, "error": code}``, said plainly on the kiosk:
  ``resi_qr`` (an application's resi, "LKT1…"), ``ticket_qr`` (a queue ticket's status
  URL ``…/t/<id>``), ``booking_forged`` (signature mismatch), ``booking_wrong_office``,
  ``booking_damaged`` (an "LKB…" payload that is truncated or malformed), ``not_found``
  (a genuine payload whose booking is gone), ``not_booking`` (any other text, a line that
  is too long or not printable).

Every scan is audited (``device.scan`` on the kiosk device: source, result and the
booking's id; never the payload).
"""
from __future__ import annotations

from datetime import datetime
from urllib.parse import unquote, urlsplit

from sqlalchemy.orm import Session

from ...models import Device, DeviceKind, Office, utcnow
from .. import audit, events
from ..actors import Actor
from ..errors import NotFound, ValidationError
from ..resi import ResiSigner
from .bookings import BookingRefused, find

#: Longest code taken as a possible booking (a booking payload is about 60 characters).
MAX_CODE = 512
#: The message name of the answer on the kiosk's page.
MESSAGE = "booking_scan"


def is_kiosk(session: Session, device_id: int) -> bool:
    """True when ``device_id`` is a kiosk (its scans are booking check-ins)."""
    device = session.get(Device, device_id)
    return device is not None and device.kind == DeviceKind.KIOSK.value


def _segments(text: str) -> list[str]:
    """The path segments of an http(s) URL (``[]`` for other text)."""
    if not text.lower().startswith(("http://", "https://")):
        return []
    return [unquote(s) for s in urlsplit(text).path.split("/") if s]


def classify(session: Session, office: Office, code: str, signer: ResiSigner) -> dict:
    """What a scanned ``code`` is at ``office``: ``{"ok": True, "ref", "code"}`` for one of
    its bookings, else ``{"ok": False, "error"}`` (codes in the module docstring)."""
    text = code.strip()
    if not text or len(text) > MAX_CODE or not text.isprintable():
        return {"ok": False, "error": "not_booking"}
    segments = _segments(text)
    if len(segments) >= 2 and segments[-2] == "t":
        return {"ok": False, "error": "ticket_qr"}
    inner = segments[-1] if segments else text
    if inner[:3].upper() == "LKT":
        return {"ok": False, "error": "resi_qr"}
    try:
        booking = find(session, office, text, signer)
    except BookingRefused as exc:
        if exc.code in ("booking_forged", "booking_wrong_office"):
            return {"ok": False, "error": exc.code}
        return {"ok": False, "error": "booking_damaged" if inner[:3].upper() == "LKB" else "not_booking"}
    except ValidationError:
        return {"ok": False, "error": "not_booking"}
    except NotFound:
        return {"ok": False, "error": "not_found"}
    return {"ok": True, "ref": text, "code": booking.code, "booking_id": booking.id}


def record_kiosk_scan(session: Session, device_id: int, data: dict, signer: ResiSigner,
                      now: datetime | None = None) -> dict:
    """Classify a kiosk agent's ``scan`` ``data`` ({"code": str, "source": str}), audit it
    and publish the answer to the kiosk's own page. Returns the answer sent to the page:
    ``{"ok", "ref"?, "code"?, "error"?, "source", "at"}``. Raises ValidationError when
    ``code`` is not a string (nothing is published then)."""
    now = now or utcnow()
    device = session.get(Device, device_id)
    if device is None or device.kind != DeviceKind.KIOSK.value:
        raise ValidationError("booking scans come from kiosks")
    code = data.get("code")
    if not isinstance(code, str):
        raise ValidationError("a scan needs a code")
    office = session.get(Office, device.office_id)
    if office is None:
        raise NotFound(key="error.booking.office_not_found")
    result = classify(session, office, code, signer)
    booking_id = result.pop("booking_id", None)
    answer = {**result, "source": str(data.get("source") or "")[:20], "at": now.isoformat()}
    actor = Actor("device", device.id, office_id=office.id, device_kind=device.kind)
    audit.record(session, actor, "device.scan", "device", device.id, office_id=office.id,
                 data={"source": answer["source"], "result": "booking" if result["ok"] else result["error"],
                       "booking_id": booking_id}, at=now)
    events.publish_after_commit(session, events.DomainEvent(events.STATION_EVENT, office.id, {
        "device_id": device.id, "kind": MESSAGE, "event": answer}))
    return answer
