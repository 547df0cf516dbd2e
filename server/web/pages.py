"""Routes of the staff and public pages (templates in server/templates)."""
from __future__ import annotations

import io

import segno
from flask import abort, current_app, render_template, request, send_file, send_from_directory, url_for
from flask_login import current_user, login_required
from sqlalchemy import or_, select

from ..i18n import current_language
from ..models import COUNTER_ROLES, Counter, Device, DeviceKind, Office, Role, StaffUser, Ticket
from ..security import require_office, scoped
from . import bp


def _db():
    return current_app.extensions["loket"].db


@bp.get("/")
def home():
    """Start page: staff see their office's pages; everyone else a sign-in link."""
    offices = []
    if current_user.is_authenticated:
        with _db().session() as s:
            stmt = scoped(select(Office).order_by(Office.code), Office.id)
            offices = [{"code": o.code, "name": o.name} for o in s.scalars(stmt)]
    can_console = current_user.is_authenticated and current_user.has_role(*COUNTER_ROLES)
    return render_template("home.html", offices=offices, can_console=can_console, stations=_stations())


#: Station pages per device kind, and the roles that open them.
STATION_PAGES = {
    DeviceKind.PICKUP.value: ("web.pickup_station", {Role.PICKUP_OFFICER.value, Role.ADMIN.value}),
    DeviceKind.ACTIVATION.value: ("web.activation_station",
                                  {Role.ACTIVATION_OFFICER.value, Role.SECTION_HEAD.value, Role.ADMIN.value}),
}


def _stations() -> list[dict]:
    """The Drive-Thru / pickup and KTP-el activation stations the signed-in user may open:
    [{"kind", "name", "url"}]."""
    if not current_user.is_authenticated:
        return []
    kinds = [k for k, (_endpoint, roles) in STATION_PAGES.items() if current_user.has_role(*roles)]
    if not kinds:
        return []
    with _db().session() as s:
        stmt = scoped(select(Device).where(Device.kind.in_(kinds), Device.active.is_(True))
                      .order_by(Device.kind, Device.name), Device.office_id)
        return [{"kind": d.kind, "name": d.name, "url": url_for(STATION_PAGES[d.kind][0], device_id=d.id)}
                for d in s.scalars(stmt)]


@bp.get("/console")
@login_required
def console():
    """Counter console: pick a counter of your office, then call and serve tickets."""
    with _db().session() as s:
        office_id = current_user.office_id or request.args.get("office_id", type=int)
        if office_id is None:
            office_id = s.scalar(select(Office.id).order_by(Office.id))
        office = s.get(Office, office_id) if office_id else None
        if office is None:
            abort(404)
        require_office(office.id)
        counters = [{"id": c.id, "number": c.number, "label": c.label, "state": c.state,
                     "officer_id": c.officer_id, "services": [sv.code for sv in c.services]}
                    for c in s.scalars(select(Counter).where(Counter.office_id == office.id).order_by(Counter.number))]
        lang = current_language()
        services = [{"id": sv.id, "code": sv.code, "letter": sv.letter, "name": sv.name(lang)}
                    for sv in office.services if sv.active]
        staff = select(StaffUser).where(or_(StaffUser.office_id == office.id, StaffUser.office_id.is_(None)))
        staff_names = {u.id: u.full_name for u in s.scalars(staff)}
        return render_template("console.html", office={"id": office.id, "code": office.code, "name": office.name},
                               counters=counters, services=services, staff_names=staff_names,
                               user={"id": current_user.id, "name": current_user.full_name, "role": current_user.role})


@bp.get("/t/<public_id>")
def ticket_page(public_id: str):
    """Public ticket status (the target of the ticket's QR code); no personal data."""
    with _db().session() as s:
        if s.scalars(select(Ticket.id).where(Ticket.public_id == public_id)).first() is None:
            abort(404)
    return render_template("ticket.html", public_id=public_id)


@bp.get("/t/<public_id>/qr.svg")
def ticket_qr(public_id: str):
    """The QR code (SVG) of a ticket's public status URL, for screens."""
    with _db().session() as s:
        if s.scalars(select(Ticket.id).where(Ticket.public_id == public_id)).first() is None:
            abort(404)
    base = current_app.config.get("PUBLIC_URL") or request.host_url.rstrip("/")
    out = io.BytesIO()
    segno.make(f"{base}/t/{public_id}", error="m").save(out, kind="svg", scale=8, border=2)
    out.seek(0)
    return send_file(out, mimetype="image/svg+xml", max_age=3600)


FAVICON_MAX_AGE = 30 * 24 * 3600  # s: the icon hardly ever changes


@bp.get("/favicon.ico")
def favicon():
    """The site icon for browsers that ask /favicon.ico by themselves (pages link the same
    SVG from base.html): static/img/favicon.svg as image/svg+xml, cached 30 days."""
    return send_from_directory(current_app.static_folder, "img/favicon.svg", mimetype="image/svg+xml",
                               max_age=FAVICON_MAX_AGE)
