"""The resi (application receipt, "tanda terima berkas") as ESC/POS bytes.

Source: issue 4, "The resi": printed on the same ESC/POS printers as queue tickets, with
office, service, resi number, masked name, registration date, due date, a QR of the public
status page and the pickup instructions. The job shape is documented in
``server.services.applications.resi_print`` (``kind: "resi"``).

Like :func:`drivers.printer.layout.render_ticket`, :func:`render_resi` is deterministic
(the same job, width and zone give the same bytes; tests compare a recorded fixture), wraps
text itself to the Font A columns and prints the QR with the printer's own encoder.
Only the fields listed below are printed: a job carrying ``nik``, ``phone`` or ``email``
never shows them.
"""
from __future__ import annotations

import textwrap
from datetime import date

from escpos.constants import QR_ECLEVEL_M
from escpos.printer import Dummy

from ..errors import DeviceError
from .layout import clean, columns, format_time, qr_module_size, reprint_line, wrap_lines

TITLE = "TANDA TERIMA BERKAS"
FOOTER = "Simpan resi ini sampai dokumen diambil."
BULLET = "- "
#: Largest character multiplier of the resi number (it is long: DEMO-A-20261123-0001).
RESI_MAX_SIZE = 2


def render_resi(job: dict, width_mm: int = 80, tz: str | None = None) -> bytes:
    """ESC/POS bytes of one resi (application receipt), ending with a cut.

    ``job``: a resi print job (``kind: "resi"``, shape in
    ``server.services.applications.resi_print``); required: ``resi_number``, ``name``
    (already masked), ``registered_at`` (ISO 8601), ``due_date`` (YYYY-MM-DD) and
    ``status_url`` (printed as the QR); ``office``, ``service`` and ``pickup_instructions``
    are printed when present. ``width_mm``: 58 or 80. ``tz``: IANA zone of the registration
    time; ``job["office"]["timezone"]`` wins when present; with neither, the time is printed
    as given.

    Layout, centred unless noted: office name (bold) and address; with ``"reprint": true``
    the inverted line "CETAK ULANG / REPRINT" (:func:`.layout.reprint_line`); "TANDA TERIMA BERKAS";
    service name; the resi number in bold, enlarged as far as it fits one line (at most
    double size); then left-aligned "Nama: ...", "Tanggal daftar: dd-mm-YYYY HH:MM",
    "Perkiraan selesai: dd-mm-YYYY"; the QR of ``status_url``; the pickup instructions as
    "- " bullets wrapped to the paper's columns; the footer line; a cut.

    Raises ValueError on an unsupported width, DeviceError on a malformed job (missing
    field, bad date or time, unknown zone, empty resi number or status URL).
    """
    cols = columns(width_mm)
    try:
        return _render(Dummy(), job, width_mm, cols, tz)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DeviceError(f"resi tidak valid / bad resi print job: {exc!r}") from exc


def _render(p, job: dict, width_mm: int, cols: int, tz: str | None) -> bytes:
    office = job.get("office") or {}
    service = job.get("service") or {}
    number = _required(job, "resi_number")
    url = _required(job, "status_url")
    name = clean(job["name"] or "") or "-"
    registered = format_time(job["registered_at"], office.get("timezone") or tz)
    due = date.fromisoformat(str(job["due_date"])).strftime("%d-%m-%Y")
    instructions = job.get("pickup_instructions") or []
    if isinstance(instructions, str):
        raise TypeError("pickup_instructions must be a list of lines")

    p.hw("INIT")
    p.set(font="a", align="center", bold=True)
    wrap_lines(p, office.get("name"), cols)
    p.set(bold=False)
    wrap_lines(p, office.get("address"), cols)
    reprint_line(p, job)
    p.ln()
    p.set(bold=True)
    p.textln(TITLE)
    p.set(bold=False)
    wrap_lines(p, service.get("name_id") or service.get("name_en"), cols)
    p.ln()
    p.textln("NOMOR RESI")
    size = resi_number_size(number, width_mm)
    p.set(bold=True, custom_size=True, width=size, height=size)
    for line in textwrap.wrap(number, cols // size):
        p.textln(line)
    p.set(bold=False, custom_size=True, width=1, height=1)  # GS ! 0, as in the ticket layout
    p.ln()
    p.set(align="left")
    wrap_lines(p, f"Nama: {name}", cols)
    p.textln(f"Tanggal daftar: {registered}")
    p.textln(f"Perkiraan selesai: {due}")
    p.ln()
    p.set(align="center")
    p.qr(url, ec=QR_ECLEVEL_M, size=qr_module_size(url, width_mm), native=True)
    p.ln()
    p.set(align="left")
    for line in bullet_lines(instructions, cols):
        p.textln(line)
    p.ln()
    p.set(align="center")
    wrap_lines(p, FOOTER, cols)
    p.cut()
    return p.output


def _required(job: dict, key: str) -> str:
    """``job[key]`` cleaned; KeyError when missing, ValueError when None or empty."""
    value = job[key]
    text = clean(value) if value is not None else ""
    if not text:
        raise ValueError(f"empty {key}")
    return text


def resi_number_size(number: str, width_mm: int) -> int:
    """Character multiplier (1 or 2) of the resi number: as large as fits one line.

    Raises ValueError on an unsupported width.
    """
    fit = max(1, columns(width_mm) // max(1, len(number)))
    return max(1, min(RESI_MAX_SIZE, fit))


def bullet_lines(items, cols: int) -> list[str]:
    """Each item as a "- " bullet wrapped to ``cols`` (continuations indented two spaces,
    no break inside hyphenated words such as "Drive-Thru"); control bytes are removed and
    empty items skipped."""
    out: list[str] = []
    for item in items:
        text = clean(item or "")
        if text:
            out += textwrap.wrap(text, cols, initial_indent=BULLET, subsequent_indent=" " * len(BULLET),
                                 break_on_hyphens=False)
    return out
