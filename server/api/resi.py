"""The resi helpers (signer, payload, links) and the public resi status (issue 4).

The public status (``GET /resi/<payload_or_number>``, no sign-in) is found in one of two ways:

- **the signed QR payload** (``LKT1.<office>.<number>.<id>.<sig>``, or the ``/r/<payload>``
  URL printed as the QR): holding it is the credential, since its HMAC (128 bits) cannot
  be guessed. Refusals have distinct codes: ``resi_foreign`` (not a Loket QR),
  ``resi_malformed`` (truncated, damaged, other version), ``resi_forged`` (signature does
  not match: forged or altered), ``resi_wrong_office`` (genuine, but ``?office=`` names
  another office), all 400; ``resi_unknown`` (404) for a genuine payload whose file is gone.
- **a typed resi number** plus ``?check=`` = **the applicant's birth date** (YYYY-MM-DD,
  DD-MM-YYYY, DD/MM/YYYY or DDMMYYYY). Resi numbers are sequential
  (DEMO-A-20261123-0001, -0002 ...), so the number alone would let anyone walk through a
  day's files. The birth date was chosen over the last 4 NIK digits: the NIK serial is
  0001 for most people of a region and birth date (a guess of "0001" would often be
  right), while a birth date has ~20,000 plausible values, and the citizen knows it by
  heart without the KTP that may be the very document being applied for. It is read
  from the NIK given at registration (day - 40 for women), so nothing more is stored.
  An unknown number and a wrong birth date give the same answer (404 ``resi_unknown``),
  and after ``CHECK_FAILURES`` failed checks on one number within ``CHECK_WINDOW_S``
  seconds further typed look-ups of that number answer 429 ``too_many_attempts`` (per
  number, not per client address: behind a reverse proxy every client has the proxy's
  address; per process, so the bound is multiplied by the worker count). The QR is never
  throttled.

The public answer holds the resi number, office, service, current step name, status,
due date, ``ready`` and the masked name: no NIK, phone, e-mail or full name.
"""
from __future__ import annotations

from flask import current_app

from ..api_errors import loket_error
from ..models import Application, Office
from ..services.applications.resi_lookup import CheckThrottle, resi_public
from ..services.applications.resi_lookup import lookup_resi as _lookup_resi
from ..services.applications.resi_print import status_url
from ..services.resi import ResiError, ResiSigner, derive_key
from . import bp
from .contract import errors, public
from .helpers import public_url, transaction
from .schemas.applications import ResiPublicAnswer, ResiQuery


def resi_signer() -> ResiSigner:
    """The app's resi signer: ``ResiSigner(derive_key(SECRET_KEY))``, made once per app."""
    signer = current_app.extensions.get("loket_resi_signer")
    if signer is None:
        signer = current_app.extensions.setdefault(
            "loket_resi_signer", ResiSigner(derive_key(current_app.config["SECRET_KEY"])))
    return signer


def resi_payload(office: Office, app: Application) -> str:
    """The signed QR payload of ``app`` (over its id, office code and resi number)."""
    return resi_signer().make_payload(app.id, office.code, app.resi_number)


def resi_links(office: Office, app: Application) -> dict:
    """{"number", "payload", "status_url", "due_date"} of ``app``'s resi."""
    payload = resi_payload(office, app)
    return {"number": app.resi_number, "payload": payload, "status_url": status_url(public_url(), payload),
            "due_date": app.due_date.isoformat()}


def _throttle() -> CheckThrottle:
    return current_app.extensions.setdefault("loket_resi_throttle", CheckThrottle())


def lookup_resi(s, text: str, *, check: str | None = None, office_code: str | None = None):
    """The public resi look-up with this app's signer and throttle (see the service)."""
    return _lookup_resi(s, text, signer=resi_signer(), throttle=_throttle(), check=check, office_code=office_code)


@bp.get("/resi/<ref>", tags=["applications"])
@public
@bp.arguments(ResiQuery, location="query")
@bp.response(200, ResiPublicAnswer)
@errors(404)
def resi_status(query: dict, ref: str):
    """Public status of an application (no sign-in) by its signed resi QR payload
    (``LKT1.<office>.<number>.<id>.<sig>``), or by its typed resi number
    (DEMO-A-20261123-0001) with ``?check=`` the applicant's birth date (see the module
    docstring for why). Answers the resi number, office, service, current step name,
    status, due date, ``ready`` and the masked name; nothing else personal. 400
    resi_foreign, resi_malformed, resi_forged or resi_wrong_office; 404 resi_unknown (also a
    wrong check for a typed number); 422 a typed number without a valid check, or not a resi
    number; 429 too_many_attempts (typed number, failed checks)."""
    try:
        with transaction() as s:
            app, office = lookup_resi(s, ref, check=query.get("check"), office_code=query.get("office") or None)
            return resi_public(office, app)
    except ResiError as exc:  # a refused QR is a bad request (400), whatever its base class says
        answer, _ = loket_error(exc)
        return answer, 400
