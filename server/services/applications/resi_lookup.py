"""Public resi look-up: by the signed QR payload, or by the typed resi number with the
applicant's birth date as a check (so resi numbers cannot be enumerated), and the view of
an application that anyone holding its resi may see (no NIK, phone, e-mail or full name).

The check is the birth date read from the NIK given at registration, not the NIK's last
four digits: those are a serial, mostly 0001. Failed checks are counted per resi number in
a sliding window (CHECK_FAILURES per CHECK_WINDOW_S seconds, per process); a wrong date
and an unknown number get the same answer. No Flask here: the API passes the signer and
the throttle.
"""
from __future__ import annotations

import re
import threading
import time
from collections import deque
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Application, ApplicationStatus, Office
from ..clock import queue_day
from ..errors import LoketError, NotFound, ValidationError
from ..nik import mask_name, parse_nik
from ..resi import ResiSigner, ResiWrongOffice, normalize_resi_number

READY = ApplicationStatus.READY.value
#: Failed birth-date checks allowed per resi number and window before 429.
CHECK_FAILURES = 10
CHECK_WINDOW_S = 900.0
_SIGNED = re.compile(r"LKT[0-9]+(\.|$)", re.IGNORECASE)


class ResiUnknown(NotFound):
    """No application for this resi (or the typed number's check does not match)."""

    code = "resi_unknown"


class TooManyAttempts(LoketError):
    code = "too_many_attempts"
    http_status = 429


class CheckThrottle:
    """Failed typed-number checks per resi number in a sliding window (see the module docstring)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.failures: dict[str, deque] = {}

    def _recent(self, key: str, now: float) -> deque:
        q = self.failures.get(key)
        if q is None:
            return deque()
        while q and q[0] <= now - CHECK_WINDOW_S:
            q.popleft()
        return q

    def blocked(self, key: str) -> bool:
        with self.lock:
            return len(self._recent(key, time.monotonic())) >= CHECK_FAILURES

    def fail(self, key: str) -> None:
        with self.lock:
            now = time.monotonic()
            if len(self.failures) > 10000:
                self.failures.clear()
            q = self.failures.setdefault(key, deque())
            self._recent(key, now)
            q.append(now)




def parse_check(text: str | None) -> date:
    """The birth date typed as ``?check=``: YYYY-MM-DD, DD-MM-YYYY, DD/MM/YYYY, DD.MM.YYYY or
    DDMMYYYY. Raises ValidationError (field "check")."""
    raw = (text or "").strip()
    error = ValidationError(key="error.application.resi_lookup.birth_date", field="check")
    if not raw:
        raise error
    m = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", raw)
    parts = (m[1], m[2], m[3]) if m else None
    if parts is None:
        m = re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", raw) or re.fullmatch(r"(\d{2})(\d{2})(\d{4})", raw)
        parts = (m[3], m[2], m[1]) if m else None
    if parts is None:
        raise error
    try:
        return date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        raise error from None


def _birth_date(office: Office, app: Application) -> date | None:
    try:
        return parse_nik(app.applicant_nik, today=queue_day(office, app.submitted_at)).birth_date
    except ValidationError:
        return None


def _unknown() -> ResiUnknown:
    return ResiUnknown(key="error.application.resi_lookup.unknown")


def _find_by_payload(s: Session, signer: ResiSigner, text: str, office_code: str | None) -> tuple[Application, Office]:
    ref = signer.verify(text, office_code)
    app = s.get(Application, ref.resi_id)
    office = s.get(Office, app.office_id) if app is not None else None
    if app is None or office is None or office.code != ref.office_code or app.resi_number != ref.resi_number:
        raise _unknown()
    return app, office


def _find_by_number(s: Session, throttle: "CheckThrottle", number: str, check: str | None,
                    office_code: str | None) -> tuple[Application, Office]:
    if throttle.blocked(number):
        raise TooManyAttempts(key="error.application.resi_lookup.too_many_attempts")
    birth = parse_check(check)  # a missing or unreadable date is no guess: not counted
    app = s.scalars(select(Application).where(Application.resi_number == number)).first()
    office = s.get(Office, app.office_id) if app is not None else None
    if app is None or office is None or _birth_date(office, app) != birth:
        throttle.fail(number)
        raise _unknown()
    if office_code is not None and office.code != office_code:
        raise ResiWrongOffice(f"resi ini milik kantor {office.code}, bukan {office_code}",
                              f"this resi belongs to office {office.code}, not {office_code}", office_code=office.code)
    return app, office


def lookup_resi(s: Session, text: str, *, signer: ResiSigner, throttle: "CheckThrottle", check: str | None = None,
                office_code: str | None = None) -> tuple[Application, Office]:
    """The application a public look-up names: a signed payload (or its status URL), or a
    typed resi number with the birth-date ``check`` (failed checks counted in ``throttle``).
    Raises ResiError (its codes), ResiUnknown, ValidationError (a number without a valid
    check), TooManyAttempts."""
    text = (text or "").strip()
    if not (_SIGNED.match(text) or text.lower().startswith(("http://", "https://"))):
        try:
            number = normalize_resi_number(text)
        except ValidationError:
            if check is not None:  # meant as a typed number: say what is wrong with it
                raise
            number = None
        if number is not None:
            return _find_by_number(s, throttle, number, check, office_code)
    return _find_by_payload(s, signer, text, office_code)


def resi_public(office: Office, app: Application) -> dict:
    """What anyone holding the resi may see: no NIK, phone, e-mail or full name."""
    step, service = app.current_step, app.service
    return {
        "resi_number": app.resi_number,
        "office": {"code": office.code, "name": office.name},
        "service": {"code": service.code, "name_id": service.name_id, "name_en": service.name_en},
        "step": {"code": step["code"], "name_id": step.get("name_id"), "name_en": step.get("name_en")} if step else None,
        "step_name": step.get("name_id") if step else None,
        "status": app.status,
        "ready": app.status == READY,
        "due_date": app.due_date.isoformat(),
        "name": mask_name(app.applicant_name),
    }
