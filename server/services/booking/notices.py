"""The booking confirmation sent by WhatsApp / SMS / e-mail through the notice outbox
(issue 6: "also sent by WhatsApp/e-mail through the notice outbox"), queued in the booking's
own transaction (a crash can never lose it). Texts in Bahasa Indonesia."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ...models import Booking, Notice, Office
from ..notices.outbox import choose_channel, queue_notice
from ..notices.providers import NoticeProvider
from ..notices.texts import FOOTER

KINDS = ("booked", "cancelled")


def _when(view: dict) -> str:
    start = datetime.fromisoformat(view["checkin_from"])
    until = datetime.fromisoformat(view["checkin_until"])
    return f"{start:%d-%m-%Y}, sesi {view['session']['label']} (pindai QR di kios antara {start:%H.%M} dan {until:%H.%M})"


def booking_text(office: Office, view: dict, kind: str, channel: str) -> tuple[str, str]:
    """(subject, body) of the ``kind`` notice ("booked" or "cancelled") for the booking
    confirmation ``view`` (``views.booking_view``). SMS gets a short text."""
    service, code = view["service"]["name_id"], view["code"]
    if kind == "cancelled":
        subject = f"Booking {code} dibatalkan"
        body = f"Booking antrean {service} kode {code} di {office.name} telah DIBATALKAN."
        return subject, body if channel == "sms" else body + "\n\n" + FOOTER.format(office=office.name)
    subject = f"Booking antrean {code} - {service}"
    if channel == "sms":
        return subject, (f"Disdukcapil: booking {service} kode {code}, {_when(view)}. Bawa KTP-el & berkas. "
                         f"Batal: {view['url']}")
    bring = "\n".join(f"- {r['id']}" for r in view["requirements"] if not r.get("when")) or "- KTP-el"
    body = (
        f"Yth. Bapak/Ibu {view['name']},\n\n"
        f"Booking antrean {service} di {office.name} BERHASIL.\n"
        f"Kode booking: {code}\n"
        f"Jadwal: {_when(view)}\n\n"
        f"Yang perlu dibawa:\n{bring}\n\n"
        f"Tunjukkan kode QR pada {view['url']} di kios (atau ketik kode booking); terlambat lebih dari batas "
        f"di atas, booking hangus dan Anda dapat mengambil nomor antrean biasa.\n"
        f"Berhalangan hadir? Batalkan di {view['url']} agar tempatnya dapat dipakai warga lain.\n\n"
        + FOOTER.format(office=office.name)
    )
    return subject, body


def queue_booking_notice(session: Session, office: Office, booking: Booking, view: dict, kind: str, *,
                         providers: dict[str, NoticeProvider], now: datetime | None = None) -> Notice | None:
    """Queue the ``kind`` notice of ``booking`` on its first usable channel (WhatsApp, SMS,
    e-mail), once per booking and kind (dedupe "bk<id>:<kind>"); None without a channel.
    Raises ValueError for an unknown kind."""
    if kind not in KINDS:
        raise ValueError(f"unknown booking notice kind {kind!r}")
    choice = choose_channel(booking, providers)
    if choice is None:
        return None
    channel, recipient = choice
    subject, body = booking_text(office, view, kind, channel)
    return queue_notice(session, office_id=office.id, application_id=None, kind=f"booking_{kind}", channel=channel,
                        recipient=recipient, subject=subject, body=body, dedupe_key=f"bk{booking.id}:{kind}", now=now)
