"""Every report as plain tables, the one shape the page, the CSV and the XLSX are made from.

A :class:`Table` has a ``title`` (an i18n key), ``columns`` [(i18n key, kind)] and
``rows`` (lists of cell values, None for "no value"). Kinds: ``text``, ``int``, ``s``
(seconds), ``min`` (minutes), ``share`` (0..1), ``date``. Texts stay i18n keys here (no
Flask in services); the export and the page translate them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

STAT_KEYS = ("count", "mean_s", "p50_s", "p90_s", "max_s")
WEEKDAY_KEYS = tuple(f"report.weekday.{i}" for i in range(1, 8))


@dataclass
class Table:
    """One table of a report (see the module docstring)."""

    name: str
    title: str
    columns: list[tuple[str, str]]
    rows: list[list] = field(default_factory=list)


def _stat_columns(prefix: str) -> list[tuple[str, str]]:
    return [(f"report.{prefix}.count", "int")] + [(f"report.{prefix}.{k[:-2]}", "s") for k in STAT_KEYS[1:]]


def waiting_tables(report: dict) -> list[Table]:
    """Tables of ``analytics.waiting.waiting_report``: summary (total first, then each
    group), heatmap (weekday × hour), transfers."""
    cols = [("report.group." + report["group"], "text"), ("report.issued", "int"), ("report.served", "int"),
            ("report.no_show", "int"), ("report.transferred", "int"), ("report.cancelled", "int"),
            *_stat_columns("wait"), *_stat_columns("svc")]

    def line(label, row):
        return [label, row["issued"], row["served"], row["no_show"], row["transferred"], row["cancelled"],
                *[row["wait_time"][k] for k in STAT_KEYS], *[row["service_time"][k] for k in STAT_KEYS]]

    summary = Table("summary", "report.w.summary", cols, [line("report.total", report["total"])])
    summary.rows += [line(r["label"] if r["key"] is not None else "–", r) for r in report["rows"]]
    heat = Table("heatmap", "report.w.heatmap", [("report.weekday", "text")] + [(f"{h:02d}", "int") for h in range(24)],
                 [[WEEKDAY_KEYS[i], *counts] for i, counts in enumerate(report["heatmap"]["counts"])])
    moves = Table("transfers", "report.w.transfers",
                  [("report.from_service", "text"), ("report.to_service", "text"), ("report.count", "int")],
                  [[t["from_service"], t["to_service"], t["count"]] for t in report["transfers"]])
    return [summary, heat, moves]


def productivity_tables(report: dict) -> list[Table]:
    """Table of ``analytics.productivity.productivity_report`` (one row per officer, total last)."""
    cols = [("report.officer", "text"), ("report.name", "text"), ("report.counters", "text"),
            ("report.served", "int"), ("report.no_show", "int"), ("report.transferred", "int"),
            ("report.p.mean_service", "s"), ("report.p.open", "s"), ("report.p.paused", "s"),
            ("report.p.busy", "s"), ("report.p.idle", "s")]
    keys = ("served", "no_show", "transferred", "mean_service_s", "open_s", "paused_s", "busy_s", "idle_s")
    rows = [[r["officer"], r["name"], ", ".join(str(c) for c in r["counters"]), *[r[k] for k in keys]]
            for r in report["rows"]]
    rows.append(["report.total", "", "", *[report["total"][k] for k in keys]])
    return [Table("officers", "report.p.title", cols, rows)]


def control_card_tables(report: dict) -> list[Table]:
    """Tables of ``analytics.sop_steps.control_card_report``: steps, slowest files,
    overdue summary, overdue files."""
    steps = Table("steps", "report.k.steps", [
        ("report.service", "text"), ("report.k.step", "text"), ("report.k.stays", "int"), ("report.k.mean", "min"),
        ("report.k.p50", "min"), ("report.k.p90", "min"), ("report.k.max", "min"), ("report.k.standard", "min"),
        ("report.k.late", "int"), ("report.k.late_share", "share"), ("report.k.slowest", "text")],
        [[s["service"], f"{s['step']} · {s['name_id']}", s["count"], s["mean_min"], s["p50_min"], s["p90_min"],
          s["max_min"], s["standard_min"], s["late"], s["late_share"],
          ", ".join(f"{x['resi_number']} ({x['minutes']})" for x in s["slowest"])] for s in report["steps"]])
    slow = Table("slowest_files", "report.k.slowest_files", [
        ("report.k.resi", "text"), ("report.service", "text"), ("report.k.minutes", "min"),
        ("report.k.excess", "min"), ("report.k.late_steps", "int")],
        [[f["resi_number"], f["service"], f["minutes"], f["excess_min"], f["late_steps"]] for f in report["slowest_files"]])
    o = report["overdue"]
    summary = Table("overdue_summary", "report.k.overdue", [("report.k.measure", "text"), ("report.count", "int")], [
        ["report.k.submitted", o["submitted"]], ["report.k.on_time", o["finished_on_time"]],
        ["report.k.finished_late", o["finished_late"]], ["report.k.open", o["open"]],
        ["report.k.open_overdue", o["open_overdue"]],
        *[[f"report.k.days.{k}", n] for k, n in o["by_days"].items()]])
    files = Table("overdue_files", "report.k.overdue_files", [
        ("report.k.resi", "text"), ("report.service", "text"), ("report.k.status", "text"), ("report.k.step", "text"),
        ("report.k.due", "date"), ("report.k.overdue_days", "int")],
        [[f["resi_number"], f["service"], f["status"], f["step"] or "", f["due_date"], f["overdue_working_days"]]
         for f in o["files"]])
    return [steps, slow, summary, files]


def pickups_tables(report: dict) -> list[Table]:
    """Tables of ``analytics.pickups.pickups_report``: per day (total last), refusals by reason."""
    cols = [("report.date", "date"), ("report.u.counter", "int"), ("report.u.drive_thru", "int"),
            ("report.u.pickups", "int"), ("report.u.activations", "int"), ("report.u.pickup_refusals", "int"),
            ("report.u.activation_refusals", "int")]

    def line(label, r):
        return [label, r["pickups"]["counter"], r["pickups"]["drive_thru"], r["pickups_total"], r["activations"],
                r["pickup_refusals"], r["activation_refusals"]]

    days = Table("days", "report.u.days", cols, [line(d["date"], d) for d in report["days"]])
    days.rows.append(line("report.total", report["totals"]))
    reasons = Table("refusals", "report.u.refusals", [("report.u.kind", "text"), ("report.u.reason", "text"),
                                                      ("report.count", "int")],
                    [[f"report.u.kind.{r['kind']}", r["reason"], r["count"]] for r in report["refusals_by_reason"]])
    return [days, reasons]
