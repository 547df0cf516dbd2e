"""Small helpers shared by the API views: the session, JSON input, look-ups in the caller's
office scope, the public base URL, the stale-version answer of a file."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from flask import abort, current_app, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Application, Office
from ..security import office_allowed
from ..services.applications import STALE
from ..services.errors import NotFound, ValidationError, VersionConflict

#: What the caller saw, named in the message of a missing ``expected_version`` of a file.
FILE_VERSION = ("versi berkas yang dilihat", "the version of the file you saw")


@contextmanager
def transaction() -> Iterator[Session]:
    """One database transaction for this request (committed on success)."""
    with current_app.extensions["loket"].db.session() as session:
        yield session


def body() -> dict:
    """The JSON object in the request body ({} when empty). Raises ValidationError."""
    if not request.data:
        return {}
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError("the body must be a JSON object")
    return data


def get_office(session: Session, code: str, *, check_access: bool = True) -> Office:
    """The office with ``code``; 404 when unknown, 403 when the caller belongs elsewhere."""
    office = session.scalars(select(Office).where(Office.code == code)).first()
    if office is None:
        raise NotFound(f"office {code!r} not found")
    if check_access and not office_allowed(office.id):
        abort(403)
    return office


def get_for_staff(session: Session, model, row_id: int, not_found: str):
    """The ``model`` row ``row_id`` for a staff request: NotFound(``not_found``) (404) when
    missing, 403 when it belongs to another office than the caller's (``office_allowed``)."""
    row = session.get(model, row_id)
    if row is None:
        raise NotFound(not_found)
    if not office_allowed(row.office_id):
        abort(403)
    return row


def int_arg(data: dict, key: str, default: int | None = None, *, lo: int = 0, hi: int = 10**9) -> int | None:
    """``data[key]`` as an int within [lo, hi]; ValidationError otherwise."""
    value = data.get(key, default)
    if value is None:
        return None
    try:
        value = int(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{key} must be an integer", field=key) from None
    if not lo <= value <= hi:
        raise ValidationError(f"{key} must be between {lo} and {hi}", field=key)
    return value


def expected_version(data: dict, seen_id: str = "versi yang dilihat", seen_en: str = "the version you saw") -> int:
    """``data["expected_version"]`` (an int >= 1), the version of a record the caller saw,
    for a compare-and-set; ValidationError (field expected_version) when missing or bad.
    ``seen_id``/``seen_en`` name what was seen in the message (Indonesian, English)."""
    version = int_arg(data, "expected_version", lo=1)
    if version is None:
        raise ValidationError(f"expected_version wajib diisi ({seen_id}) / expected_version is required ({seen_en})",
                              field="expected_version")
    return version


def public_url() -> str:
    """Base URL for links printed in QR codes (LOKET_PUBLIC_URL, else this request's host)."""
    return current_app.config.get("PUBLIC_URL") or request.host_url.rstrip("/")


def application_for_staff(session: Session, application_id: int) -> Application:
    """The application (permohonan) ``application_id`` for a staff request: 404 when missing,
    403 when it belongs to another office (:func:`get_for_staff`)."""
    return get_for_staff(session, Application, application_id, "berkas tidak ditemukan / application not found")


def version_conflict(application_id: int, expected: int) -> VersionConflict:
    """The 409 for a stale ``expected`` version, naming the application's current one."""
    with transaction() as s:
        current = s.scalar(select(Application.version).where(Application.id == application_id))
    return VersionConflict(f"{STALE}: muat ulang berkas (versi {current}, bukan {expected}) / reload the file "
                           f"(now version {current}, you sent {expected})", current_version=current,
                           expected_version=expected)
