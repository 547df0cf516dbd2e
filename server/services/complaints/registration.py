"""Registering an AKAPELA contact (seed 001, SOP step 2: "Petugas meregistrasi identitas
masyarakat/pemohon dengan menuliskan nama, nomor telpon, NIK/NO KK serta jenis pelayanan
informasi dan pengaduan").

Input is checked field by field; every wrong field is reported at once
(``ContactInvalid.errors``) and nothing is saved. The contact number is
``AKP-<YYYYMMDD>-<NNNN>`` (office-local day, per-office daily sequence from one atomic
upsert), unique per office; it is no secret: the public status page also asks for the last
4 digits of the phone number given.
"""
from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ...db import is_postgres
from ...models import Application, Complaint, ComplaintSequence, ComplaintStatus, Office, utcnow
from ..actors import Actor
from ..clock import queue_day
from ..errors import LoketError, ValidationError
from ..nik import parse_nik, validate_kk_number
from ..resi import ResiError, ResiSigner, normalize_resi_number
from .records import StepWriter, record_change
from .stages import OFFICER, holder_role

CHANNELS = ("phone", "whatsapp", "walk_in", "web_form")
KINDS = ("information", "complaint")
ID_KINDS = ("nik", "kk")
MAX_TEXT = 2000
NUMBER_PREFIX = "AKP"
_PHONE = re.compile(r"\+?[0-9]{8,15}")
_NUMBER = re.compile(r"AKP-([0-9]{8})-([0-9]{4,})")


class ContactInvalid(ValidationError):
    """One or more fields are wrong: ``field_errors`` = {field: the error (a catalog key and
    its params)}; ``errors`` = {field: "Indonesian / English" message} (also in ``details``),
    :meth:`errors_in` the messages in one language. The exception's own text is the first's."""

    def __init__(self, errors: dict[str, LoketError]) -> None:
        self.field_errors = dict(errors)
        self.errors = {name: exc.message for name, exc in errors.items()}
        first = next(iter(errors.values()))
        super().__init__(first.message, key=first.key, params=first.params, errors=self.errors)

    def errors_in(self, lang: str) -> dict[str, str]:
        """{field: message in ``lang``} ("id" or "en")."""
        return {name: exc.text(lang) for name, exc in self.field_errors.items()}


def contact_number(day: date, seq: int) -> str:
    """``AKP-<YYYYMMDD>-<NNNN>``, e.g. "AKP-20261205-0012" (sequence zero-padded to 4)."""
    return f"{NUMBER_PREFIX}-{day:%Y%m%d}-{seq:04d}"


def normalize_number(text: str) -> str | None:
    """A typed contact number in canonical form ("akp 20261205 12" → "AKP-20261205-0012"),
    or None when it is not one."""
    canon = re.sub(r"[\s_.\-]+", "-", (text or "").strip().upper()).strip("-")
    canon = re.sub(r"-(\d{1,3})$", lambda m: "-" + m[1].zfill(4), canon)
    return canon if _NUMBER.fullmatch(canon) else None


def phone_digits(phone: str) -> str:
    """The digits of a phone number ("+62 812-3456-7890" → "6281234567890")."""
    return "".join(ch for ch in phone or "" if ch.isascii() and ch.isdigit())


def _next_seq(session: Session, office_id: int, day: date) -> int:
    insert = postgresql.insert if is_postgres(session) else sqlite.insert
    stmt = insert(ComplaintSequence).values(office_id=office_id, day=day, last_number=1).on_conflict_do_update(
        index_elements=["office_id", "day"], set_={"last_number": ComplaintSequence.last_number + 1},
    ).returning(ComplaintSequence.last_number)
    return session.execute(stmt).scalar_one()


def find_application(session: Session, office: Office, text: str, signer: ResiSigner | None = None) -> Application:
    """The application of this office a typed resi number (or a scanned resi QR, when
    ``signer`` is given) names. Raises ValidationError (field "resi_number"): malformed,
    forged, another office's, or no such file here."""
    text = (text or "").strip()
    unknown = ValidationError(key="error.complaint.resi_unknown", field="resi_number", reason="unknown")
    if signer is not None and text.upper().startswith("LKT"):
        try:
            ref = signer.verify(text, office.code)
        except ResiError as exc:
            raise ValidationError(exc.message, key=exc.key, params=exc.params, field="resi_number",
                                  reason=exc.reason) from None
        app = session.get(Application, ref.resi_id)
        if app is None or app.office_id != office.id or app.resi_number != ref.resi_number:
            raise unknown
        return app
    number = normalize_resi_number(text)  # ValidationError(field="resi_number") when malformed
    app = session.scalars(select(Application).where(
        Application.resi_number == number, Application.office_id == office.id)).first()
    if app is None:
        raise unknown
    return app


def clean_contact(session: Session, office: Office, data: dict, *, now: datetime,
                  signer: ResiSigner | None = None) -> dict:
    """Check a contact's fields; returns them cleaned (with ``application`` or None).

    ``data``: {"name", "phone", "id_kind": "nik"|"kk", "id_number", "channel", "kind",
    "resi_number" (optional), "text"}. NIK / No. KK are checked with ``services.nik``
    against the office-local day. Raises ContactInvalid listing every wrong field.
    """
    errors: dict[str, LoketError] = {}

    def text_of(key: str) -> str:
        value = data.get(key)
        return value.strip() if isinstance(value, str) else ""

    name = " ".join(text_of("name").split())
    if not 1 <= len(name) <= 200:
        errors["name"] = ValidationError(key="error.complaint.name_required", field="name")
    phone = re.sub(r"[\s\-().]", "", text_of("phone"))
    if not _PHONE.fullmatch(phone):
        errors["phone"] = ValidationError(key="error.complaint.phone_required", field="phone")
    id_kind = text_of("id_kind").lower() or "nik"
    id_number = re.sub(r"[\s.\-]", "", text_of("id_number"))
    if id_kind not in ID_KINDS:
        errors["id_kind"] = ValidationError(key="error.complaint.id_kind", field="id_kind")
    else:
        try:
            today = queue_day(office, now)
            id_number = (parse_nik(id_number, today).nik if id_kind == "nik"
                         else validate_kk_number(id_number, today).number)
        except ValidationError as exc:
            errors["id_number"] = exc
    channel = text_of("channel")
    if channel not in CHANNELS:
        errors["channel"] = ValidationError(key="error.complaint.channel", field="channel")
    kind = text_of("kind")
    if kind not in KINDS:
        errors["kind"] = ValidationError(key="error.complaint.kind", field="kind")
    body = text_of("text")
    if not 1 <= len(body) <= MAX_TEXT:
        errors["text"] = ValidationError(key="error.complaint.text_required", params={"max": MAX_TEXT}, field="text")
    app = None
    if text_of("resi_number"):
        try:
            app = find_application(session, office, text_of("resi_number"), signer)
        except ValidationError as exc:
            errors["resi_number"] = exc
    if errors:
        raise ContactInvalid(errors)
    return {"name": name, "phone": phone, "id_kind": id_kind, "id_number": id_number, "channel": channel,
            "kind": kind, "text": body, "application": app}


def register_contact(session: Session, office: Office, data: dict, *, actor: Actor,
                     now: datetime | None = None, signer: ResiSigner | None = None) -> Complaint:
    """Register a contact (fields as in :func:`clean_contact`) at the officer's stage.

    ``actor``: the officer (staff of this office) or the public (the web form, whose
    channel must be "web_form"). Writes the first kartu kendali line (register), an audit
    row, all in the caller's transaction. Returns the contact (``number`` set).
    Raises ContactInvalid, ValidationError (a public contact on another channel).
    """
    now = now or utcnow()
    fields = clean_contact(session, office, data, now=now, signer=signer)
    if actor.type != "staff" and fields["channel"] != "web_form":
        raise ContactInvalid({"channel": ValidationError(key="error.complaint.public_web_only", field="channel")})
    app = fields.pop("application")
    seq = _next_seq(session, office.id, queue_day(office, now))
    complaint = Complaint(
        office_id=office.id, number=contact_number(queue_day(office, now), seq), **fields,
        application_id=app.id if app else None, resi_number=app.resi_number if app else None,
        status=ComplaintStatus.OPEN.value, stage=OFFICER, holder_role=holder_role(office, OFFICER),
        stage_entered_at=now, created_at=now, created_by=actor.staff_id,
    )
    session.add(complaint)
    session.flush()
    StepWriter(session, complaint, actor).write("register", None, OFFICER, now, None,
                                               data={"channel": complaint.channel, "kind": complaint.kind})
    record_change(session, complaint, actor, "register", None, now,
                  {"channel": complaint.channel, "kind": complaint.kind, "resi_number": complaint.resi_number})
    return complaint
