"""Public online-booking pages (issue 6): ``/booking`` (the offices), ``/booking/<office>``
(choose a service, a day, a session, then the form) and ``/booking/<office>/<code>`` (the
confirmation: code, signed QR drawn here as SVG, check-in window, what to bring, and the
cancel form asking for the NIK).

Mobile first, Bahasa Indonesia by default (``?lang=en``). The pages are thin: the booking
page's script (``static/js/booking.js``) reads availability from and books through the
public API (``server.api.bookings``); the confirmation page is rendered from the same view
as ``GET /api/v1/offices/<code>/bookings/<code>``. No NIK is shown anywhere, only the
masked name.

``/booking/<office>/demo-inbox``: in ``loket demo`` only (config DEMO; 404 otherwise),
the booking notices of the last hour, standing in for the citizens' WhatsApp / e-mail
(issue 13: the code and the booking reach the citizen only there; the demo has no gateway).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import segno
from flask import abort, current_app, render_template
from markupsafe import Markup
from sqlalchemy import select

from ..api.bookings import booking_signer
from ..api.tickets import public_url
from ..i18n import current_language, translate
from ..models import Notice, Office, utcnow
from ..services.booking import bookings
from ..services.booking.views import booking_view
from ..services.errors import LoketError
from ..services.notices.status import mask_recipient
from . import bp


def _db():
    return current_app.extensions["loket"].db


def _office(s, code: str) -> Office:
    office = s.scalars(select(Office).where(Office.code == code)).first()
    if office is None:
        abort(404)
    return office


def day_label(iso: str, lang: str) -> str:
    """"Senin, 23 Nov" (or "Monday, 23 Nov") of an ISO date."""
    d = date.fromisoformat(iso)
    weekdays = translate("booking.weekdays", lang).split(",")  # Sunday first, like JS getDay()
    months = translate("booking.months", lang).split(",")
    return f"{weekdays[(d.weekday() + 1) % 7]}, {d.day} {months[d.month - 1]}"


def _hhmm(iso: str, zone: ZoneInfo) -> str:
    return datetime.fromisoformat(iso).astimezone(zone).strftime("%H.%M")


@bp.get("/booking")
def booking_offices():
    """The offices that take online bookings: links to their booking pages."""
    with _db().session() as s:
        offices = [{"code": o.code, "name": o.name, "address": o.address}
                   for o in s.scalars(select(Office).order_by(Office.code))]
    return render_template("booking.html", office=None, offices=offices)


@bp.get("/booking/<office_code>")
def booking_page(office_code: str):
    """The booking flow of one office (service → day → session → form)."""
    with _db().session() as s:
        office = _office(s, office_code)
        info = {"code": office.code, "name": office.name, "address": office.address}
    return render_template("booking.html", office=info, offices=None)


@bp.get("/booking/<office_code>/demo-inbox")
def booking_demo_inbox(office_code: str):
    """Demo only: the office's booking notices (codes, confirmations, refusals) queued in
    the last hour, newest first, at most 20, recipients masked. 404 outside ``loket demo``."""
    if not current_app.config.get("DEMO"):
        abort(404)
    since = utcnow() - timedelta(hours=1)
    with _db().session() as s:
        office = _office(s, office_code)
        items = [{"to": mask_recipient(n.channel, n.recipient), "channel": n.channel, "subject": n.subject,
                  "body": n.body} for n in s.scalars(
            select(Notice).where(Notice.office_id == office.id, Notice.kind.like("booking_%"),
                                 Notice.created_at >= since).order_by(Notice.id.desc()).limit(20))]
        info = {"code": office.code, "name": office.name}
    return render_template("booking_demo_inbox.html", office=info, items=items)


@bp.get("/booking/<office_code>/<ref>")
def booking_done(office_code: str, ref: str):
    """A booking's confirmation and status, with its QR and the cancel form."""
    lang = current_language()
    with _db().session() as s:
        office = _office(s, office_code)
        try:
            booking = bookings.find(s, office, ref, booking_signer())
        except LoketError:
            return render_template("booking_done.html", b=None, office={"code": office.code, "name": office.name},
                                   qr_svg=None), 404
        view = booking_view(office, booking, booking_signer(), public_url())
        zone = ZoneInfo(office.timezone)
    qr = segno.make(view["qr_payload"], error="m")
    qr_svg = Markup(qr.svg_inline(scale=6, border=2, dark="#000", light="#fff", omitsize=True,
                                  svgclass="bk-qr-svg", title=translate("booking.done.qr_title", lang)))
    view["day_label"] = day_label(view["day"], lang)
    view["checkin_from_hhmm"], view["checkin_until_hhmm"] = (_hhmm(view["checkin_from"], zone),
                                                             _hhmm(view["checkin_until"], zone))
    return render_template("booking_done.html", b=view, office=view["office"], qr_svg=qr_svg)
