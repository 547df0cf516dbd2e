"""The queue ticket as ESC/POS bytes, built with python-escpos (no device needed).

:func:`render_ticket` is deterministic: the same job, width and zone give the same bytes
(tests compare them with recorded fixtures). Text is wrapped here, to the Font A columns of
the paper (58 mm: 32, 80 mm: 48), not by the printer; the QR code uses the printer's own
QR encoder (``GS ( k``), so no image is rasterised.
"""
from __future__ import annotations

import math
import re
import textwrap
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import segno
from escpos.constants import QR_ECLEVEL_M
from escpos.printer import Dummy

from ..errors import DeviceError

#: Font A characters per line, by paper width in mm.
COLUMNS = {58: 32, 80: 48}
#: Printable dots per line at 203 dpi, by paper width in mm.
DOTS = {58: 384, 80: 576}
#: Largest QR module size (dots), by paper width in mm.
QR_MAX_MODULE = {58: 6, 80: 8}
#: Largest character multiplier of the queue number, by paper width in mm.
NUMBER_MAX_SIZE = {58: 4, 80: 5}

PRIORITY_LABELS = {"lansia": "LANSIA", "disabilitas": "PENYANDANG DISABILITAS", "ibu_hamil": "IBU HAMIL"}
FOOTER = "Simpan tiket ini. Pantau antrian: scan QR."
#: Printed (inverted, centred) on a slip whose job has ``"reprint": true``.
REPRINT_LABEL = "CETAK ULANG / REPRINT"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def columns(width_mm: int) -> int:
    """Font A characters per line on ``width_mm`` paper; ValueError unless 58 or 80."""
    try:
        return COLUMNS[width_mm]
    except KeyError:
        raise ValueError(f"unsupported paper width {width_mm} mm (58 or 80)") from None


def render_ticket(job: dict, width_mm: int = 80, tz: str | None = None) -> bytes:
    """ESC/POS bytes of one queue ticket, ending with a cut.

    ``job``: a print job (shape in ``server.services.printing``). ``width_mm``: 58 or 80.
    ``tz``: IANA zone to print the issue time in; ``job["office"]["timezone"]`` wins when
    present; with neither, the time is printed as given by ``issued_at``. A job with
    ``"reprint": true`` carries the line :data:`REPRINT_LABEL` under the office's address.
    Raises ValueError on an unsupported width, DeviceError on a malformed job.
    """
    cols = columns(width_mm)
    try:
        return _render(Dummy(), job, width_mm, cols, tz)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DeviceError(f"tiket tidak valid / bad print job: {exc!r}") from exc


def _render(p, job: dict, width_mm: int, cols: int, tz: str | None) -> bytes:
    office = job.get("office") or {}
    service = job.get("service") or {}
    number = clean(job["number"])

    p.hw("INIT")
    p.set(font="a", align="center", bold=True)
    _lines(p, office.get("name"), cols)
    p.set(bold=False)
    _lines(p, office.get("address"), cols)
    reprint_line(p, job)
    p.ln()
    _lines(p, service.get("name_id") or service.get("name_en"), cols)
    p.textln("NOMOR ANTRIAN")
    size = number_size(number, width_mm)
    p.set(bold=True, custom_size=True, width=size, height=size)
    p.textln(number)
    p.set(bold=False, custom_size=True, width=1, height=1)  # GS ! 0: ESC ! 0 alone is not enough on clones
    if job.get("priority_kind"):
        p.set(invert=True)
        p.textln(f" PRIORITAS: {priority_label(job['priority_kind'])} "[:cols])
        p.set(invert=False)
    p.ln()
    p.set(align="left")
    p.textln(format_time(job["issued_at"], office.get("timezone") or tz))
    p.textln(f"Antrian di depan Anda: {int(job.get('people_ahead') or 0)}")
    if job.get("estimated_wait_s") is not None:
        p.textln(f"Perkiraan tunggu: \u00b1 {wait_minutes(job['estimated_wait_s'])} menit")
    url = str(job.get("status_url") or "")
    p.set(align="center")
    if url:
        p.ln()
        p.qr(url, ec=QR_ECLEVEL_M, size=qr_module_size(url, width_mm), native=True)
        p.ln()
        _lines(p, FOOTER, cols)
    p.cut()
    return p.output


def wrap_lines(p, text, cols: int) -> None:
    """Print ``text`` (cleaned of control bytes) on printer ``p`` wrapped to ``cols`` columns;
    nothing when empty. Shared by the ticket and resi layouts."""
    for line in textwrap.wrap(clean(text or ""), cols):
        p.textln(line)


_lines = wrap_lines  # the name the ticket layout has always used


def reprint_line(p, job: dict) -> None:
    """When ``job["reprint"]`` is true, print :data:`REPRINT_LABEL` inverted and bold on its
    own line (alignment unchanged), so nobody takes a second copy for a new number."""
    if job.get("reprint") is True:
        p.set(bold=True, invert=True)
        p.textln(f" {REPRINT_LABEL} ")
        p.set(bold=False, invert=False)


def clean(text) -> str:
    """``text`` as a one-line string without control bytes (no ESC/POS injection from data)."""
    return _CONTROL.sub(" ", str(text)).strip()


def number_size(number: str, width_mm: int) -> int:
    """Character multiplier (1-8) of the queue number: as large as fits one line."""
    fit = max(1, columns(width_mm) // max(1, len(number)))
    return max(1, min(NUMBER_MAX_SIZE[width_mm], fit))


def priority_label(kind: str) -> str:
    """Indonesian label of a priority kind ("lansia" → "LANSIA")."""
    return PRIORITY_LABELS.get(kind, clean(kind).replace("_", " ").upper())


def format_time(issued_at: str, tz: str | None) -> str:
    """"21-11-2026 08:15" from an ISO 8601 time, converted to ``tz`` when it has an offset.

    Raises ValueError on a bad time or an unknown zone.
    """
    when = datetime.fromisoformat(str(issued_at))
    if tz and when.tzinfo is not None:
        try:
            when = when.astimezone(ZoneInfo(tz))
        except ZoneInfoNotFoundError as exc:
            raise ValueError(f"unknown time zone {tz!r}") from exc
    return when.strftime("%d-%m-%Y %H:%M")


def wait_minutes(seconds: float) -> int:
    """Whole minutes shown for an estimate in seconds (at least 1)."""
    return max(1, math.ceil(float(seconds) / 60))


def qr_module_size(url: str, width_mm: int) -> int:
    """QR module size in dots so that the code plus its quiet zone fits the paper."""
    modules = int(segno.make_qr(url, error="m", boost_error=False).symbol_size(border=0)[0])
    fit = DOTS[width_mm] // (modules + 8)  # 4 modules of quiet zone each side
    return max(1, min(QR_MAX_MODULE[width_mm], fit))
