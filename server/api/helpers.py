"""Small helpers shared by the API views: the request's transaction, look-ups in the
caller's office scope, the public base URL. (Bodies and queries are parsed by the views'
schemas, ``server.api.schemas``; files' own helpers are in ``files_helpers``.)"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from flask import abort, current_app, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Office
from ..security import office_allowed
from ..services.errors import NotFound


@contextmanager
def transaction() -> Iterator[Session]:
    """One database transaction for this request (committed on success)."""
    with current_app.extensions["loket"].db.session() as session:
        yield session


def get_office(session: Session, code: str, *, check_access: bool = True) -> Office:
    """The office with ``code``; NotFound (404, key ``api.not_found.office``) when unknown,
    403 when the caller belongs elsewhere (unless ``check_access`` is False: public pages)."""
    office = session.scalars(select(Office).where(Office.code == code)).first()
    if office is None:
        raise NotFound(key="api.not_found.office", params={"code": code})
    if check_access and not office_allowed(office.id):
        abort(403)
    return office


def get_for_staff(session: Session, model, row_id: int, what: str):
    """The ``model`` row ``row_id`` for a staff request: NotFound (404, key
    ``api.not_found.<what>``, e.g. ``counter``, ``ticket``) when missing, 403 when it
    belongs to another office than the caller's (``office_allowed``)."""
    row = session.get(model, row_id)
    if row is None:
        raise NotFound(key=f"api.not_found.{what}", params={"id": row_id})
    if not office_allowed(row.office_id):
        abort(403)
    return row


def public_url() -> str:
    """Base URL for links printed in QR codes (LOKET_PUBLIC_URL, else this request's host)."""
    return current_app.config.get("PUBLIC_URL") or request.host_url.rstrip("/")
