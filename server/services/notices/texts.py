"""The texts of notices to citizens, in Bahasa Indonesia, per kind and channel.

``printed`` (a KTP-el): the card is printed and waits for its activation, in person only.
``ready``: the document is finished; where and how to collect it (the pickup counter, or
the office's Drive-Thru lane), what to bring, and who may collect it; on WhatsApp and e-mail
also the IKM survey link of the counter visit when its ticket was served and not yet rated
and the public URL is known (issue 7, ``services.survey.links.notice_survey_url``). ``returned``: the file
went back to the counter for a correction; the officer's reason (the kartu kendali's last
return line) and what to do. WhatsApp and e-mail get the full text; SMS a short one.

Where the office's data decides a sentence:

- Drive-Thru: ``office.settings["notices"]["drive_thru"]`` when set, otherwise whether
  the office has an active pickup station (a ``pickup`` device: the Drive-Thru lane).
- The queue ticket for the pickup counter: named when the office has an active service of
  kind ``pickup`` (e.g. "Pengambilan Dokumen").
- Collection by a representative (surat kuasa F-1.07) is offered except for a service with
  an activation step: a KTP-el is handed over to the applicant in person (domain brief).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from ...models import Application, ControlCardEntry, Device, DeviceKind, Office, Service
from ..errors import NotFound

ZONE_LABELS = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}
ACTIVATION_ROLE = "activation_officer"
FOOTER = "Layanan administrasi kependudukan GRATIS, tidak dipungut biaya.\n" \
         "Pesan ini dikirim otomatis oleh sistem antrean {office}; mohon tidak membalas."


@dataclass(frozen=True)
class NoticeText:
    """A notice's subject (e-mail; a title for staff on other channels) and body."""

    subject: str
    body: str


def has_drive_thru(session: Session, office: Office) -> bool:
    """Whether the office collects documents at a Drive-Thru lane (see the module docstring)."""
    setting = ((office.settings or {}).get("notices") or {}).get("drive_thru")
    if setting is not None:
        return bool(setting)
    return bool(session.scalar(select(exists().where(
        Device.office_id == office.id, Device.kind == DeviceKind.PICKUP.value, Device.active.is_(True)))))


def pickup_service(session: Session, office: Office) -> Service | None:
    """The office's active queue service for collecting documents, if it has one."""
    return session.scalars(select(Service).where(
        Service.office_id == office.id, Service.kind == "pickup", Service.active.is_(True)
    ).order_by(Service.sort_order, Service.id)).first()


def last_return_reason(session: Session, application_id: int) -> str | None:
    """The reason on the kartu kendali's last return line, or None."""
    return session.scalar(select(ControlCardEntry.reason).where(
        ControlCardEntry.application_id == application_id, ControlCardEntry.action == "return",
    ).order_by(ControlCardEntry.seq.desc()).limit(1))


def office_hours(office: Office) -> str:
    """"hari kerja pukul 07.30-16.00 WIB"."""
    zone = ZONE_LABELS.get(office.timezone, office.timezone)
    return f"hari kerja pukul {office.opening_time:%H.%M}-{office.closing_time:%H.%M} {zone}"


def _where(office: Office) -> str:
    return f"{office.name}, {office.address}" if office.address else office.name


def _in_person_only(app: Application) -> bool:
    return any(step.get("role") == ACTIVATION_ROLE for step in app.steps)


def _survey_line(session: Session, app: Application) -> str:
    """The IKM survey invitation for the application's counter visit (issue 7), when its
    ticket was served and not yet rated and the server knows its public URL; else ""."""
    from ..survey.links import notice_survey_url

    url = notice_survey_url(session, app.ticket_id)
    return f"Bagaimana pelayanan kami? Mohon isi survei kepuasan masyarakat (1 menit): {url}\n\n" if url else ""


def _ready(session: Session, app: Application, office: Office, channel: str) -> NoticeText:
    service, drive_thru = app.service, has_drive_thru(session, office)
    subject = f"Dokumen siap diambil - resi {app.resi_number}"
    places = "loket Pengambilan Dokumen" + (" atau lajur Drive-Thru" if drive_thru else "")
    in_person = _in_person_only(app)
    if channel == "sms":
        bring = "Bawa resi; diambil sendiri oleh pemohon." if in_person else "Bawa resi & KTP-el asli."
        return NoticeText(subject, (
            f"Disdukcapil: {service.name_id} resi {app.resi_number} SUDAH SELESAI. Ambil di {places} "
            f"{office.name}, {office_hours(office)}. {bring}"))
    pickup = pickup_service(session, office)
    queue = (f'ambil nomor antrean layanan "{pickup.name_id}" di anjungan (kios), lalu menuju loket '
             f"Pengambilan Dokumen" if pickup else "menuju loket Pengambilan Dokumen")
    if drive_thru:
        queue += ", atau langsung ke lajur Drive-Thru"
    who = ("Dokumen ini wajib diambil sendiri oleh pemohon (tidak dapat diwakilkan)." if in_person else
           "Bawa KTP-el asli pemohon. Bila diwakilkan, penerima kuasa membawa surat kuasa (formulir F-1.07) "
           "serta KTP-el asli pemberi dan penerima kuasa.")
    body = (
        f"Yth. Bapak/Ibu {app.applicant_name},\n\n"
        f"{service.name_id} Anda dengan nomor resi {app.resi_number} SUDAH SELESAI dan dapat diambil.\n\n"
        f"Cara pengambilan:\n"
        f"1. Datang ke {_where(office)}, {office_hours(office)}.\n"
        f"2. Silakan {queue}.\n"
        f"3. Tunjukkan resi (atau kode QR pada resi) kepada petugas.\n"
        f"4. {who}\n"
        f"5. Tanda tangani bukti pengambilan saat menerima dokumen.\n\n"
        + _survey_line(session, app)
        + FOOTER.format(office=office.name)
    )
    return NoticeText(subject, body)


def _returned(session: Session, app: Application, office: Office, channel: str) -> NoticeText:
    service = app.service
    reason = last_return_reason(session, app.id) or "silakan tanyakan kepada petugas loket"
    subject = f"Berkas dikembalikan untuk perbaikan - resi {app.resi_number}"
    if channel == "sms":
        short = reason if len(reason) <= 90 else reason[:87] + "..."
        return NoticeText(subject, (
            f"Disdukcapil: berkas resi {app.resi_number} DIKEMBALIKAN untuk perbaikan: {short}. "
            f"Datang ke loket {service.name_id} dgn resi, identitas & dokumen perbaikan, {office_hours(office)}."))
    body = (
        f"Yth. Bapak/Ibu {app.applicant_name},\n\n"
        f"Berkas {service.name_id} Anda dengan nomor resi {app.resi_number} DIKEMBALIKAN untuk perbaikan "
        f"dan memerlukan kehadiran Anda.\n\n"
        f"Alasan: {reason}\n\n"
        f"Yang perlu dilakukan:\n"
        f"1. Siapkan dokumen yang diperbaiki atau dilengkapi sesuai alasan di atas.\n"
        f"2. Datang ke {_where(office)}, {office_hours(office)}.\n"
        f'3. Ambil nomor antrean layanan "{service.name_id}" di anjungan (kios), lalu serahkan resi ini '
        f"dan dokumen perbaikan kepada petugas loket.\n"
        f"4. Bawa juga kartu identitas asli pemohon.\n\n"
        f"Berkas diproses kembali setelah perbaikan diterima; nomor resi tetap sama.\n\n"
        + FOOTER.format(office=office.name)
    )
    return NoticeText(subject, body)


def activation_service(session: Session, office: Office) -> Service | None:
    """The office's active queue service for KTP-el activation (kind "activation"), if any."""
    return session.scalars(select(Service).where(
        Service.office_id == office.id, Service.kind == "activation", Service.active.is_(True)
    ).order_by(Service.sort_order, Service.id)).first()


def _printed(session: Session, app: Application, office: Office, channel: str) -> NoticeText:
    """A KTP-el is printed and waits for its activation, which is in person only (seed 002,
    KTP-el SOP step 8)."""
    subject = f"KTP-el sudah dicetak - datang untuk aktivasi - resi {app.resi_number}"
    if channel == "sms":
        return NoticeText(subject, (
            f"Disdukcapil: KTP-el resi {app.resi_number} SUDAH DICETAK. Datang SENDIRI untuk aktivasi di {office.name}, "
            f"{office_hours(office)}. Bawa resi; tidak dapat diwakilkan."))
    activation = activation_service(session, office)
    queue = (f'ambil nomor antrean layanan "{activation.name_id}" di anjungan (kios)' if activation
             else "menuju loket aktivasi KTP-el")
    body = (
        f"Yth. Bapak/Ibu {app.applicant_name},\n\n"
        f"KTP-el Anda dengan nomor resi {app.resi_number} SUDAH DICETAK dan menunggu aktivasi.\n\n"
        f"Aktivasi wajib dilakukan oleh pemohon sendiri (tidak dapat diwakilkan):\n"
        f"1. Datang ke {_where(office)}, {office_hours(office)}.\n"
        f"2. Silakan {queue}.\n"
        f"3. Tunjukkan resi kepada petugas; sidik jari Anda diverifikasi pada alat Dukcapil.\n"
        f"4. Setelah aktivasi, KTP-el diserahkan kepada Anda.\n\n"
        + FOOTER.format(office=office.name)
    )
    return NoticeText(subject, body)


KINDS = {"ready": _ready, "returned": _returned, "printed": _printed}


def application_notice_text(session: Session, app: Application, kind: str, channel: str) -> NoticeText:
    """The text of notice ``kind`` ("ready", "returned" or "printed") about ``app`` for ``channel``."""
    if kind not in KINDS:
        raise ValueError(f"unknown notice kind {kind!r}; kinds: {sorted(KINDS)}")
    office = session.get(Office, app.office_id)
    if office is None:
        raise NotFound(key="error.not_found.office")
    return KINDS[kind](session, app, office, channel)
