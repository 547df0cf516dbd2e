"""Managers' reports for any period (issue 7, "Reports"): waiting and service times,
officer productivity, the kartu kendali against standard times, pickups and activations;
each as JSON-ready dicts, as tables, and as CSV / XLSX files.

``REPORTS`` maps a report's URL name to (builder, tables): ``builder(session, query)``
returns the dict, ``tables(report)`` its :class:`~.tables.Table` list.
"""
from __future__ import annotations

from .export import to_csv, to_xlsx
from .filters import GROUPS, ReportQuery, query
from .pickups import pickups_report
from .productivity import productivity_report
from .sop_steps import control_card_report
from .tables import Table, control_card_tables, pickups_tables, productivity_tables, waiting_tables
from .waiting import waiting_report

REPORTS = {
    "waiting": (waiting_report, waiting_tables),
    "productivity": (productivity_report, productivity_tables),
    "control-card": (control_card_report, control_card_tables),
    "pickups": (pickups_report, pickups_tables),
}

__all__ = ["GROUPS", "REPORTS", "ReportQuery", "Table", "control_card_report", "pickups_report",
           "productivity_report", "query", "to_csv", "to_xlsx", "waiting_report"]
