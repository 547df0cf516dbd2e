"""The booking confirmation sent by WhatsApp / SMS / e-mail through the notice outbox
(issue 6: "also sent by WhatsApp/e-mail through the notice outbox"), queued in the booking's
own transaction (a crash can never lose it). Texts in Bahasa Indonesia.

Issue 13: the one-time code (:func:`code_text`) and the outcome of a confirmed request
(:func:`outcome_text`: the booking, or why there is none) go to the contact the booker
confirmed, never in an HTTP answer (:func:`queue_to_contact`)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ...models import Booking, Notice, Office
from ..notices.outbox import choose_channel, queue_notice
from ..notices.providers import NoticeProvider
from ..notices.texts import FOOTER

KINDS = ("booked", "cancelled")
#: Outcomes of a confirmed request other than a new booking (``requests.confirm``).
REFUSALS = ("already_booked", "broker_limit", "no_show_blocked", "session_full", "service_full")
CONTESTED_NOTE = ("PERHATIAN: NIK ini juga memiliki booking lain untuk layanan dan hari yang sama, dibuat dari "
                  "nomor/e-mail lain. Jika itu bukan Anda, datanglah dengan KTP-el Anda: saat check-in, KTP-el yang "
                  "Anda bawa yang menentukan. Booking lain itu tidak menghalangi Anda dilayani.")


def _when(view: dict) -> str:
    start = datetime.fromisoformat(view["checkin_from"])
    until = datetime.fromisoformat(view["checkin_until"])
    return f"{start:%d-%m-%Y}, sesi {view['session']['label']} (pindai QR di kios antara {start:%H.%M} dan {until:%H.%M})"


def code_text(office: Office, code: str, ttl_min: int, channel: str) -> tuple[str, str]:
    """(subject, body) of the one-time code notice: the 6-digit ``code``, valid ``ttl_min``
    minutes; a warning not to share it. SMS gets a short text."""
    subject = f"Kode verifikasi booking {office.name}"
    if channel == "sms":
        return subject, f"Disdukcapil: kode booking Anda {code} (berlaku {ttl_min} menit). Jangan berikan ke siapa pun."
    body = (f"Kode verifikasi booking antrean di {office.name}: {code}\n\n"
            f"Masukkan kode ini di halaman booking dalam {ttl_min} menit untuk menyelesaikan booking. Jangan berikan "
            f"kode ini kepada siapa pun, termasuk yang mengaku petugas atau calo. Jika Anda tidak memesan, abaikan "
            f"pesan ini.\n\n" + FOOTER.format(office=office.name))
    return subject, body


def _needed(view: dict | None, outcome: str) -> dict:
    if view is None:
        raise ValueError(f"the {outcome!r} outcome needs the booking's view")
    return view


def outcome_text(office: Office, outcome: str, view: dict | None, channel: str, *, contested: bool = False,
                 details: dict | None = None) -> tuple[str, str]:
    """(subject, body) of a confirmed request's outcome: "booked" (``view``: the booking's
    confirmation; ``contested``: another contact also holds this NIK's booking, see
    :data:`CONTESTED_NOTE`) or one of :data:`REFUSALS` ("already_booked" also gets ``view``,
    the existing booking of this contact). ``details``: the refusal's (e.g. "until").
    Raises ValueError for an unknown outcome."""
    if outcome == "booked":
        subject, body = booking_text(office, _needed(view, outcome), "booked", channel)
        if contested:
            body = (CONTESTED_NOTE if channel != "sms" else "NIK ini juga dibooking dari kontak lain; bawa KTP-el.") \
                + ("\n\n" if channel != "sms" else " ") + body
        return subject, body
    if outcome not in REFUSALS:
        raise ValueError(f"unknown booking outcome {outcome!r}")
    if outcome == "already_booked":
        subject, body = booking_text(office, _needed(view, outcome), "booked", channel)
        return subject, "Anda sudah memiliki booking ini untuk NIK, layanan dan hari tersebut." + \
            ("\n\n" if channel != "sms" else " ") + body
    until = (details or {}).get("until")
    reason = {
        "broker_limit": "nomor/e-mail ini sudah memegang booking untuk terlalu banyak NIK pada hari itu. Setiap "
                        "warga dapat memesan dengan nomor atau e-mailnya sendiri",
        "no_show_blocked": "nomor/e-mail ini beberapa kali memesan tanpa hadir" + (
            f"; booking dengan nomor/e-mail ini dapat dilakukan lagi mulai {until}" if until else ""),
        "session_full": "kuota sesi yang dipilih sudah habis; silakan pilih sesi atau hari lain",
        "service_full": "kuota layanan hari itu sudah habis; silakan pilih hari lain",
    }[outcome]
    subject = f"Booking antrean di {office.name} tidak dapat dibuat"
    body = f"Booking antrean di {office.name} TIDAK DAPAT DIBUAT: {reason}."
    return subject, body if channel == "sms" else body + "\n\n" + FOOTER.format(office=office.name)


def queue_to_contact(session: Session, office: Office, channel: str, recipient: str, kind: str, text: tuple[str, str],
                     dedupe_key: str, now: datetime | None = None) -> Notice:
    """Queue ``text`` (subject, body) to the confirmed contact (``channel``, ``recipient``)
    as notice kind "booking_<kind>" (at most 20 characters), once per ``dedupe_key``."""
    subject, body = text
    return queue_notice(session, office_id=office.id, application_id=None, kind=f"booking_{kind}"[:20],
                        channel=channel, recipient=recipient, subject=subject, body=body, dedupe_key=dedupe_key,
                        now=now)


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
    # choose_channel reads only ``phone`` and ``email``, which a Booking has like an Application.
    choice = choose_channel(booking, providers)  # type: ignore[arg-type]
    if choice is None:
        return None
    channel, recipient = choice
    subject, body = booking_text(office, view, kind, channel)
    return queue_notice(session, office_id=office.id, application_id=None, kind=f"booking_{kind}", channel=channel,
                        recipient=recipient, subject=subject, body=body, dedupe_key=f"bk{booking.id}:{kind}", now=now)
