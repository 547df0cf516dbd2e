"""Managers' reports for any period (issue 7, "Reports"): waiting and service times,
officer productivity, the kartu kendali against standard times, pickups and activations;
each as JSON-ready dicts, as tables, and as CSV / XLSX files.

Every report a manager can open (these four, the IKM, AKAPELA and the KTP-el activations)
is listed once in :mod:`.catalog` (``KINDS``: builder, tables, default period, filters).
"""
from __future__ import annotations

from .export import to_csv, to_xlsx
from .filters import GROUPS, ReportQuery, query
from .pickups import pickups_report
from .productivity import productivity_report
from .sop_steps import control_card_report
from .tables import Table
from .waiting import waiting_report

__all__ = ["GROUPS", "ReportQuery", "Table", "control_card_report", "pickups_report",
           "productivity_report", "query", "to_csv", "to_xlsx", "waiting_report"]
