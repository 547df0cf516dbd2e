"""Indonesian population identifiers: NIK and family-card (KK) numbers, and masks.

Rules (source: ../shared/domain.md "Identifiers", the Dukcapil NIK layout):

- NIK, 16 digits: ``PP RR DD`` region (province, regency/city, district: Kemendagri
  region codes), ``ddmmyy`` birth date with 40 added to the day for women, ``ssss``
  serial (0001-9999).
- No. KK, 16 digits: the same region prefix, then the issue date ``ddmmyy`` (no +40
  rule), then a serial (0001-9999).

Province codes are the Kemendagri codes Dukcapil uses in NIKs (Permendagri 72/2019,
Kepmendagri 100.1.1-6117/2022 for the Papua provinces formed in 2022): 11-19, 21, 31-36,
51-53, 61-65, 71-76, 81-82, 91-96 (91 Papua, 92 Papua Barat, 93 Papua Selatan,
94 Papua Tengah, 95 Papua Pegunungan, 96 Papua Barat Daya). 97 is a BPS statistics code
(Papua Pegunungan in BPS numbering), not a Kemendagri code, so it is refused.

Every check failure raises ``ValidationError`` (``field`` = "nik" or "no_kk", ``part``
naming the wrong part) with an Indonesian / English message.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from .errors import ValidationError

PROVINCE_CODES: frozenset[str] = frozenset(
    [str(c) for c in range(11, 20)] + ["21"] + [str(c) for c in range(31, 37)]
    + ["51", "52", "53"] + [str(c) for c in range(61, 66)] + [str(c) for c in range(71, 77)]
    + ["81", "82"] + [str(c) for c in range(91, 97)]
)
_SEPARATORS = re.compile(r"[\s.\-]")
FEMALE_DAY_OFFSET = 40


@dataclass(frozen=True)
class NikInfo:
    """A parsed NIK. Codes are 2-digit strings; ``sex`` is "M" or "F"; ``nik`` normalized."""

    nik: str
    province: str
    regency: str
    district: str
    birth_date: date
    sex: str
    serial: str

    @property
    def region(self) -> str:
        """The 6-digit region code (province + regency/city + district)."""
        return self.province + self.regency + self.district


@dataclass(frozen=True)
class KkInfo:
    """A parsed family-card number: region codes, issue date and serial; ``number`` normalized."""

    number: str
    province: str
    regency: str
    district: str
    issue_date: date
    serial: str


def _fail(field: str, part: str, id_text: str, en_text: str) -> ValidationError:
    label = "NIK" if field == "nik" else "No. KK"
    return ValidationError(f"{label}: {id_text} / {label}: {en_text}", field=field, part=part)


def _digits16(value: str, field: str) -> str:
    """``value`` without surrounding whitespace and group separators (space, dot, dash)."""
    if not isinstance(value, str):
        raise _fail(field, "length", "harus berupa teks 16 angka", "must be a 16-digit string")
    text = _SEPARATORS.sub("", value)
    if not text:
        raise _fail(field, "length", "wajib diisi", "is required")
    if not (text.isascii() and text.isdigit()):
        raise _fail(field, "length", "hanya boleh berisi angka", "may contain digits only")
    if len(text) != 16:
        raise _fail(field, "length", f"harus 16 angka (tertulis {len(text)})",
                    f"must be 16 digits (got {len(text)})")
    return text


def _check_region(text: str, field: str) -> tuple[str, str, str]:
    province, regency, district = text[0:2], text[2:4], text[4:6]
    if province not in PROVINCE_CODES:
        raise _fail(field, "province", f"kode provinsi '{province}' tidak dikenal",
                    f"unknown province code '{province}'")
    if regency == "00":
        raise _fail(field, "regency", "kode kabupaten/kota tidak boleh 00",
                    "regency/city code may not be 00")
    if district == "00":
        raise _fail(field, "district", "kode kecamatan tidak boleh 00", "district code may not be 00")
    return province, regency, district


def _check_serial(text: str, field: str) -> str:
    serial = text[12:16]
    if serial == "0000":
        raise _fail(field, "serial", "nomor urut tidak boleh 0000", "serial number may not be 0000")
    return serial


def _resolve_date(day: int, month: int, yy: int, today: date) -> date | None:
    """The latest of 20yy-mm-dd and 19yy-mm-dd that exists and is not after ``today``."""
    for century in (2000, 1900):
        try:
            candidate = date(century + yy, month, day)
        except ValueError:
            continue
        if candidate <= today:
            return candidate
    return None


def _check_date(text: str, field: str, day: int, today: date, what: tuple[str, str]) -> date:
    month, yy = int(text[8:10]), int(text[10:12])
    part = "birth_date" if field == "nik" else "issue_date"
    if not 1 <= month <= 12:
        raise _fail(field, part, f"bulan {what[0]} '{text[8:10]}' tidak valid (01-12)",
                    f"{what[1]} month '{text[8:10]}' is not 01-12")
    resolved = _resolve_date(day, month, yy, today)
    if resolved is None:
        shown = f"{day:02d}-{month:02d}-{yy:02d}"
        raise _fail(field, part, f"tanggal {what[0]} {shown} tidak ada",
                    f"{what[1]} date {shown} does not exist")
    return resolved


def parse_nik(nik: str, today: date | None = None) -> NikInfo:
    """Validate and decode a NIK.

    ``nik``: 16 digits; surrounding whitespace and space/dot/dash group separators are
    ignored. ``today``: the office-local date that bounds the birth date (default
    ``date.today()``); the 2-digit year resolves to the latest of 20yy / 19yy that is not
    after ``today``. Day 01-31 means male, 41-71 female (day + 40); 00, 32-40 and 72-99
    are refused, as are dates that do not exist (31-02, 29-02 in a common year).

    Returns ``NikInfo``. Raises ``ValidationError`` (field "nik", part one of "length",
    "province", "regency", "district", "birth_date", "serial").
    """
    today = today or date.today()
    text = _digits16(nik, "nik")
    province, regency, district = _check_region(text, "nik")
    raw_day = int(text[6:8])
    if 1 <= raw_day <= 31:
        sex, day = "M", raw_day
    elif FEMALE_DAY_OFFSET + 1 <= raw_day <= FEMALE_DAY_OFFSET + 31:
        sex, day = "F", raw_day - FEMALE_DAY_OFFSET
    else:
        raise _fail("nik", "birth_date",
                    f"tanggal lahir '{text[6:8]}' tidak valid (01-31 laki-laki, 41-71 perempuan)",
                    f"birth day '{text[6:8]}' is invalid (01-31 male, 41-71 female)")
    birth_date = _check_date(text, "nik", day, today, ("lahir", "birth"))
    serial = _check_serial(text, "nik")
    return NikInfo(text, province, regency, district, birth_date, sex, serial)


def is_valid_nik(nik: str, today: date | None = None) -> bool:
    """True when ``parse_nik`` accepts ``nik``; never raises."""
    try:
        parse_nik(nik, today)
    except ValidationError:
        return False
    return True


def validate_kk_number(no_kk: str, today: date | None = None) -> KkInfo:
    """Validate and decode a family-card number (No. KK).

    Same input rules as ``parse_nik`` (16 digits, separators ignored, region prefix); the
    middle 6 digits are the issue date ``ddmmyy`` without the +40 rule, resolved to the
    latest century not after ``today`` (default ``date.today()``); the serial is not 0000.

    Returns ``KkInfo``. Raises ``ValidationError`` (field "no_kk", part one of "length",
    "province", "regency", "district", "issue_date", "serial").
    """
    today = today or date.today()
    text = _digits16(no_kk, "no_kk")
    province, regency, district = _check_region(text, "no_kk")
    day = int(text[6:8])
    if not 1 <= day <= 31:
        raise _fail("no_kk", "issue_date", f"tanggal terbit '{text[6:8]}' tidak valid (01-31)",
                    f"issue day '{text[6:8]}' is not 01-31")
    issue_date = _check_date(text, "no_kk", day, today, ("terbit", "issue"))
    serial = _check_serial(text, "no_kk")
    return KkInfo(text, province, regency, district, issue_date, serial)


def mask_name(name: str) -> str:
    """A name for public screens: each word keeps its first letter, the rest become "*".

    "Budi Santoso" -> "B*** S******". Runs of whitespace collapse to one space; an empty
    or blank name gives "". Source: issue 4 (status page and resi show a masked name only).
    """
    return " ".join(word[0] + "*" * (len(word) - 1) for word in (name or "").split())


def mask_nik(nik: str) -> str:
    """A NIK for public screens: region (6 digits) and serial (4) kept, birth date hidden.

    "3171012345670001" -> "317101******0001". Separators are ignored as in ``parse_nik``;
    only the 16-digit shape is checked. Raises ``ValidationError`` (field "nik", part
    "length") for anything else.
    """
    text = _digits16(nik, "nik")
    return text[:6] + "*" * 6 + text[12:]
