"""The Drive-Thru / pickup counter station (issue 4, "Drive-Thru pickup station").

:func:`lookup_scan` answers what a scanned QR or a typed resi number names, for the pickup
officer: the application, its state, the shelf location, what must be checked before the
hand-over, or a **refusal** with a stable code (each audited as ``pickup.refused``):

===================  =========================================================================
code                 when
===================  =========================================================================
forged               the QR's signature does not match: forged or altered (``ResiForged``)
malformed            not a complete Loket payload (truncated, damaged, other version)
foreign              not a Loket QR at all (another system's code, random text)
wrong_office         a genuine resi of another office
unknown              a genuine payload / well-formed number whose file does not exist
not_ready            the file is still being processed (``due_date`` given)
ktp_not_activated    a KTP-el whose file has not passed its ``activate`` step yet: it passes
                     only at the activation counter (``services.activation``), so a KTP-el
                     is "belum diaktivasi" until its file is past the step ``activate``.
already_collected    collected before (``collected_at``, ``collector_name``)
cancelled            the application was cancelled
===================  =========================================================================

:func:`hand_over_at_station` records the pickup: the collector is the applicant (the NIK
given must equal the application's) or a representative with a power of attorney
(F-1.07: name, NIK, relation, letter number), refused for documents that may not be
delegated (KTP-el). The collector's signature (a PNG data URL from the canvas, at most
``MAX_SIGNATURE_BYTES``) is stored as ``DATA_DIR/signatures/<application id>.png`` (no
table: the path is kept in the collector dict). An optional photo of the collector (a JPEG
or PNG data URL, at most ``MAX_PHOTO_BYTES``) is stored as
``DATA_DIR/photos/<application id>.jpg|png``, its path in ``collector["photo"]`` (no key
without a photo). Both are checked by :mod:`.collector_images` and written as temporary
files, renamed only once ``chain.hand_over`` has closed the file at the version the officer
saw, deleted when it failed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...i18n.catalogs import translate
from ...models import Application, ApplicationStatus, Office, utcnow
from .. import audit
from ..actors import Actor
from ..errors import InvalidState, NotFound, ValidationError
from ..nik import mask_name, mask_nik, parse_nik
from ..resi import ResiError, ResiSigner, normalize_resi_number
from . import chain
from .collector_images import (  # noqa: F401  (the limits re-exported for callers of this module)
    MAX_PHOTO_BYTES, MAX_SIGNATURE_BYTES, collector_photo, commit_staged, discard_staged, signature_png, stage,
)

READY = ApplicationStatus.READY.value
COLLECTED = ApplicationStatus.COLLECTED.value
CANCELLED = ApplicationStatus.CANCELLED.value
ACTIVATION_STEP = "activate"
#: Services whose document must be collected in person (the catalog marks the KTP-el's
#: activation step "tidak dapat diwakilkan"); any service with an ``activate`` step too.
NOT_DELEGABLE = frozenset({"ktp_el"})
_SIGNED = re.compile(r"LKT[0-9]+(\.|$)", re.IGNORECASE)
RELATIONS = ("suami", "istri", "orang_tua", "anak", "saudara", "lainnya")

#: refusal code → the catalog key of its message for the officer (errors_applications.json).
REFUSAL_KEYS = {code: f"error.application.pickup.refusal.{code}" for code in (
    "forged", "malformed", "foreign", "wrong_office", "unknown", "not_ready", "ktp_not_activated",
    "already_collected", "cancelled")}
#: The collector's fields that must be filled in: field → (catalog key, maximum length).
_REQUIRED = {
    "relation": ("error.application.pickup.relation_required", 40),
    "name": ("error.application.pickup.name_required", 120),
    "letter_number": ("error.application.pickup.letter_number_required", 60),
}


class PickupRefused(InvalidState):
    """A hand-over the station must refuse; ``reason`` is the refusal code."""

    code = "pickup_refused"


@dataclass
class ScanResult:
    """What a look-up found: ``refusal`` None when the file may be handed over."""

    application: Application | None
    office: Office | None
    refusal: str | None = None
    details: dict = field(default_factory=dict)
    checks: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.refusal is None


def delegable(app: Application) -> bool:
    """False for documents that must be collected in person (KTP-el)."""
    if app.service.code in NOT_DELEGABLE:
        return False
    return not any(s.get("code") == ACTIVATION_STEP for s in app.steps)


def _activation_index(app: Application) -> int | None:
    for i, step in enumerate(app.steps):
        if step.get("code") == ACTIVATION_STEP:
            return i
    return None


def not_activated(app: Application) -> bool:
    """A KTP-el file not past its ``activate`` step (not activated at the counter yet)."""
    index = _activation_index(app)
    return index is not None and app.status != COLLECTED and app.step_code is not None and app.step_index <= index


def _refusal_params(code: str, details: dict) -> dict:
    """The placeholders of refusal ``code``'s message, from the refusal's ``details``."""
    if code == "not_ready":
        return {"due": details.get("due_date") or "-"}
    if code == "already_collected":
        return {"when": details.get("collected_at") or "-", "who": details.get("collector_name") or "-"}
    return {}


def refusal_key(code: str) -> str:
    """The catalog key of refusal ``code``'s message (an unknown code: "unknown")."""
    return REFUSAL_KEYS.get(code, REFUSAL_KEYS["unknown"])


def refusal_message(code: str, lang: str = "id", **details) -> str:
    """The officer's message for refusal ``code`` in ``lang`` ("id" or "en")."""
    return translate(refusal_key(code), lang, **_refusal_params(code, details))


def _checks(app: Application) -> list[dict]:
    """What the officer must check before handing over (keys of the pickup i18n texts)."""
    checks = [{"key": "resi", "id": "Cocokkan resi asli dengan nomor di layar",
               "en": "Match the original resi with the number on screen"},
              {"key": "applicant", "id": f"Pemohon: cocokkan NIK {mask_nik(app.applicant_nik)} dengan KTP/KK",
               "en": f"Applicant: match NIK {mask_nik(app.applicant_nik)} against the ID card / family card"}]
    if delegable(app):
        checks.append({"key": "representative", "id": "Diwakilkan: wajib surat kuasa F-1.07 dan KTP-el pengambil",
                       "en": "Representative: power of attorney F-1.07 and the collector's KTP-el required"})
    else:
        checks.append({"key": "in_person", "id": "Tidak dapat diwakilkan: harus pemohon sendiri",
                       "en": "Cannot be delegated: the applicant in person only"})
    if _activation_index(app) is not None:
        checks.append({"key": "activated", "id": "KTP-el sudah diaktivasi", "en": "KTP-el has been activated"})
    checks.append({"key": "signature", "id": "Pengambil menandatangani bukti pengambilan",
                   "en": "The collector signs the proof of collection"})
    return checks


def find_by_code(session: Session, office: Office, code: str, signer: ResiSigner) -> tuple[Application | None, str | None, dict]:
    """(application, refusal code, details) for a scanned payload, its status URL or a typed
    resi number at ``office``; refusal codes: unknown, wrong_office, forged, malformed, foreign."""
    text = (code or "").strip()
    if not (_SIGNED.match(text) or text.lower().startswith(("http://", "https://"))):
        try:
            number = normalize_resi_number(text)
        except ValidationError:
            number = None
        if number is not None:  # typed at the counter by the officer holding the resi
            app = session.scalars(select(Application).where(Application.resi_number == number)).first()
            if app is None:
                return None, "unknown", {"resi_number": number}
            if app.office_id != office.id:
                return None, "wrong_office", {"resi_number": number}
            return app, None, {}
    try:
        ref = signer.verify(text, office.code)
    except ResiError as exc:
        return None, exc.reason, {}
    app = session.get(Application, ref.resi_id)
    if app is None or app.office_id != office.id or app.resi_number != ref.resi_number:
        return None, "unknown", {"resi_number": ref.resi_number}
    return app, None, {}


def _state_refusal(app: Application) -> tuple[str | None, dict]:
    if app.status == COLLECTED:
        who = (app.collector or {}).get("name")
        return "already_collected", {"collected_at": app.collected_at.isoformat() if app.collected_at else None,
                                     "collector_name": who,
                                     "collector_kind": (app.collector or {}).get("kind")}
    if app.status == CANCELLED:
        return "cancelled", {}
    if not_activated(app):
        return "ktp_not_activated", {"due_date": app.due_date.isoformat()}
    if app.status != READY:
        return "not_ready", {"due_date": app.due_date.isoformat()}
    return None, {}


def lookup_scan(session: Session, office: Office, code: str, signer: ResiSigner, now: datetime | None = None,
                *, actor: Actor | None = None, device_id: int | None = None) -> ScanResult:
    """Look up a scanned QR payload (or its status URL) or a typed resi number at a pickup
    station of ``office``. Never raises for a bad code: returns a ScanResult whose
    ``refusal`` is one of the codes in the module docstring (audited as ``pickup.refused``
    when ``actor`` is given), else the ready application and its ``checks``."""
    now = now or utcnow()
    app, refusal, details = find_by_code(session, office, code, signer)
    if app is not None:
        refusal, details = _state_refusal(app)
    result = ScanResult(app, office, refusal, details, _checks(app) if app is not None and refusal is None else [])
    if refusal is not None and actor is not None:
        audit.record(session, actor, "pickup.refused", "application" if app is not None else "device",
                     app.id if app is not None else device_id, office_id=office.id,
                     data={"refusal": refusal, "device_id": device_id, **details,
                           "code": (code or "")[:80] if refusal in ("forged", "malformed", "foreign") else None},
                     at=now)
    return result


def record_refusal(session: Session, office_id: int, actor: Actor, application_id: int | None,
                   reason: str, *, device_id: int | None = None, details: dict | None = None,
                   now: datetime | None = None) -> None:
    """Audit a refused hand-over (``pickup.refused``), in its own transaction: the refused
    action itself rolled back."""
    audit.record(session, actor, "pickup.refused", "application" if application_id else "device",
                 application_id or device_id, office_id=office_id,
                 data={"refusal": reason, "device_id": device_id, "stage": "hand_over", **(details or {})},
                 at=now or utcnow())


def _text(value, field_name: str) -> str:
    key, max_len = _REQUIRED[field_name]
    text = " ".join(str(value or "").split())
    if not text or len(text) > max_len:
        raise ValidationError(key=key, field=field_name)
    return text


def clean_collector(app: Application, collector: dict) -> dict:
    """Check who collects: the applicant (NIK equal to the application's) or a
    representative {name, nik, relation, letter_number} for a delegable document.
    Raises ValidationError (bad fields) or PickupRefused (wrong NIK, not delegable)."""
    if not isinstance(collector, dict):
        raise ValidationError(key="error.application.pickup.collector_required", field="collector")
    kind = collector.get("kind")
    nik = re.sub(r"\s+", "", str(collector.get("nik") or ""))
    if kind == "applicant":
        if nik != app.applicant_nik:
            raise PickupRefused(key="error.application.pickup.nik_mismatch", reason="nik_mismatch")
        return {"kind": "applicant", "name": app.applicant_name, "nik": nik}
    if kind == "representative":
        if not delegable(app):
            raise PickupRefused(key="error.application.pickup.not_delegable", reason="not_delegable")
        parse_nik(nik)
        if nik == app.applicant_nik:
            raise ValidationError(key="error.application.pickup.representative_is_applicant", field="nik")
        relation = _text(collector.get("relation"), "relation")
        return {"kind": "representative", "name": _text(collector.get("name"), "name"), "nik": nik,
                "relation": relation, "letter_number": _text(collector.get("letter_number"), "letter_number")}
    raise ValidationError(key="error.application.pickup.kind", field="kind")


def hand_over_at_station(
    session: Session,
    office: Office,
    application_id: int,
    *,
    collector: dict,
    signature: str,
    data_dir: Path,
    photo: str | None = None,
    actor: Actor,
    expected_version: int,
    device_id: int | None = None,
    arrived_at: datetime | None = None,
    now: datetime | None = None,
) -> Application:
    """Hand over a ready file at the station: checks the state (the same refusals as
    :func:`lookup_scan`, raised as PickupRefused with ``reason``), the collector
    (:func:`clean_collector`), the signature and the optional ``photo`` (None or "" for
    none; a ``data:image/jpeg|png;base64`` URL of at most MAX_PHOTO_BYTES decoded bytes),
    then ``chain.hand_over`` at ``expected_version``; the signature PNG and the photo are
    renamed into ``signatures/`` and ``photos/`` of ``data_dir`` only after it succeeded.
    Raises PickupRefused, ValidationError (field "signature" or "photo"), Forbidden,
    NotFound, InvalidState (stale version)."""
    now = now or utcnow()
    app = session.get(Application, application_id)
    if app is None or app.office_id != office.id:
        raise PickupRefused(key="error.application.pickup.unknown_resi", reason="unknown")
    refusal, details = _state_refusal(app)
    if refusal is not None:
        raise PickupRefused(key=refusal_key(refusal), params=_refusal_params(refusal, details), reason=refusal,
                            **details)
    clean = clean_collector(app, collector)
    png = signature_png(signature)
    picture = None if photo is None or photo == "" else collector_photo(photo)
    signed = taken = None
    try:
        signed = stage(data_dir, "signatures", app.id, "png", png)
        clean["signature"] = signed.relative
        if picture is not None:
            taken = stage(data_dir, "photos", app.id, picture[1], picture[0])
            clean["photo"] = taken.relative
        clean["device_id"] = device_id
        done = chain.hand_over(session, app.id, collector=clean, actor=actor, expected_version=expected_version,
                               arrived_at=arrived_at, now=now)
        session.flush()
    except Exception:
        discard_staged(signed, taken)
        raise
    commit_staged(signed, taken)
    return done


def station_view(result: ScanResult, lang: str = "id") -> dict:
    """The look-up answer for the officer's screen."""
    app = result.application
    if result.refusal is not None:
        return {"result": "refused", "refusal": result.refusal, "details": result.details,
                "message": refusal_message(result.refusal, lang, **result.details),
                "application": None if app is None else _brief(app)}
    if app is None:  # not refused: lookup_scan found the file
        raise NotFound(key="error.application.not_found")
    return {"result": "ok", "refusal": None, "application": _brief(app), "checks": result.checks,
            "delegable": delegable(app)}


def _brief(app: Application) -> dict:
    step = app.current_step
    return {"id": app.id, "version": app.version, "resi_number": app.resi_number, "status": app.status,
            "service": {"code": app.service.code, "name_id": app.service.name_id, "name_en": app.service.name_en},
            "applicant_name": app.applicant_name, "applicant_nik_masked": mask_nik(app.applicant_nik),
            "step": None if step is None else {"code": step["code"], "name_id": step.get("name_id"),
                                               "name_en": step.get("name_en")},
            "shelf_location": app.shelf_location, "due_date": app.due_date.isoformat(),
            "ready_at": app.ready_at.isoformat() if app.ready_at else None,
            "collected_at": app.collected_at.isoformat() if app.collected_at else None}


def lane_view(result: ScanResult | None, state: str | None = None) -> dict:
    """What the citizen's lane screen shows: a state and a masked name, nothing else
    personal. ``state``: "ready" (sign please), "collected", "refused", "wait"."""
    if result is None:
        return {"state": state or "wait"}
    app = result.application
    out = {"state": state or ("refused" if result.refusal else "ready"), "refusal": result.refusal}
    if app is not None and result.refusal in (None, "not_ready", "already_collected", "ktp_not_activated"):
        out["name"] = mask_name(app.applicant_name)
    if result.refusal == "not_ready":
        out["due_date"] = result.details.get("due_date")
    return out
