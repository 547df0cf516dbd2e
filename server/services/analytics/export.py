"""CSV and XLSX (openpyxl) files of a report's :class:`~.tables.Table` list.

``tr(key)`` translates titles, headers and text cells that are i18n keys (starting with
one of ``KEY_PREFIXES``); the caller passes the request language's translator. Seconds and
minutes are written as plain numbers (the header says the unit), shares as 0..1, dates as
ISO text in CSV and as dates in XLSX.

Text typed by people (IKM comments, names) may start with ``=``, ``+``, ``-`` or ``@``:
in the CSV such a cell gets a leading ``'`` and in the XLSX it is stored as text, so a
spreadsheet program never runs it as a formula (OWASP "CSV injection").
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Font

from .tables import Table

UNITS = {"s": " (s)", "min": " (min)", "share": " (0-1)"}
KEY_PREFIXES = ("report.", "survey.report.", "complaints.")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text(value, tr: Callable[[str], str]):
    return tr(value) if isinstance(value, str) and value.startswith(KEY_PREFIXES) else value


def _csv_cell(value, tr: Callable[[str], str]):
    if value is None:
        return ""
    value = _text(value, tr)
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def headers(table: Table, tr: Callable[[str], str]) -> list[str]:
    """The table's column headers, translated, with the unit of s/min/share columns."""
    return [_text(key, tr) + UNITS.get(kind, "") for key, kind in table.columns]


def to_csv(tables: list[Table], tr: Callable[[str], str], *, heading: str = "") -> bytes:
    """The tables one after the other in one UTF-8 CSV (with BOM, so spreadsheet programs
    read it as UTF-8): an optional ``heading`` line, then per table its title line, the
    header line and its rows, then an empty line. None cells are empty."""
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\r\n")
    if heading:
        out.writerow([heading])
        out.writerow([])
    for table in tables:
        out.writerow([tr(table.title)])
        out.writerow(headers(table, tr))
        for row in table.rows:
            out.writerow([_csv_cell(v, tr) for v in row])
        out.writerow([])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(tables: list[Table], tr: Callable[[str], str], *, heading: str = "") -> bytes:
    """An XLSX workbook, one sheet per table (named after ``Table.name``): row 1 the
    ``heading`` (or the title), row 2 the headers (bold), then the rows; numbers stay
    numbers, ``date`` cells become dates."""
    wb = Workbook()
    wb.remove(wb.active)
    bold = Font(bold=True)
    for table in tables:
        ws = wb.create_sheet(table.name[:31])
        ws.append([f"{heading} · {tr(table.title)}" if heading else tr(table.title)])
        ws.append(headers(table, tr))
        for cell in ws[2]:
            cell.font = bold
        for row in table.rows:
            values = []
            for v, (_, kind) in zip(row, table.columns):
                if kind == "date" and isinstance(v, str) and len(v) == 10 and v[4] == "-":
                    v = date.fromisoformat(v)
                values.append(_text(v, tr))
            ws.append(values)
            for cell in ws[ws.max_row]:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"  # text, never a formula
        for i, (_, kind) in enumerate(table.columns, start=1):
            letter = ws.cell(row=2, column=i).column_letter
            ws.column_dimensions[letter].width = 28 if kind == "text" else 12
            if kind == "date":
                for (cell,) in ws.iter_rows(min_row=3, min_col=i, max_col=i):
                    cell.number_format = "yyyy-mm-dd"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
