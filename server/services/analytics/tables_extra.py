"""Tables (:class:`~.tables.Table`) of the reports built outside this package, so their CSV
and XLSX files come from the same export as the others (issue 7, "Export every report"):

- the IKM (``services.survey.ikm.ikm_report``): summary, elements, by service, by counter,
  comments;
- AKAPELA (``services.complaints.report.complaint_report``): times, by kind, channel, outcome;
- KTP-el activations (``services.activation.report.activation_report``): per day, refusals
  by reason, queues.

Texts are i18n keys (``report.…``, ``survey.report.…``, ``complaints.…``; see
``export.KEY_PREFIXES``); figures are copied from the report dict unchanged (IKM values
with their 3 / 2 decimals, durations in seconds).
"""
from __future__ import annotations

from .tables import STAT_KEYS, Table, _stat_columns

IKM_PERFORMANCE = {"A": "report.ikm.perf.A", "B": "report.ikm.perf.B", "C": "report.ikm.perf.C",
                   "D": "report.ikm.perf.D"}


def _ikm_group(name: str, title: str, label_key: str, rows: list[dict], elements: list[dict]) -> Table:
    cols = [(label_key, "text"), ("survey.report.responses", "int"),
            *[(e["code"], "num") for e in elements],
            ("survey.report.ikm", "num"), ("survey.report.grade", "text"), ("survey.report.performance", "text")]
    return Table(name, title, cols, [
        [r.get("name") or r.get("label"), r["responses"], *[e["nrr"] for e in r["elements"]], r["ikm"], r["grade"],
         IKM_PERFORMANCE.get(r["grade"])] for r in rows])


def ikm_tables(report: dict) -> list[Table]:
    """Tables of ``survey.ikm.ikm_report``: summary (respondents, channels, unit value, IKM,
    grade), the nine elements (sum, NRR, weighted NRR), by service, by counter, comments."""
    o = report["overall"]
    summary = Table("summary", "survey.report.title", [("report.k.measure", "text"), ("report.value", "num"),
                                                        ("report.ikm.note", "text")], [
        ["survey.report.responses", o["responses"], None],
        ["report.ikm.on_tablet", report["by_channel"]["counter"], None],
        ["report.ikm.by_link", report["by_channel"]["link"], None],
        ["survey.report.unit_value", o["unit_value"], None],
        ["survey.report.ikm", o["ikm"], None],
        ["survey.report.grade", None, o["grade"]],
        ["survey.report.performance", None, IKM_PERFORMANCE.get(o["grade"])],
    ])
    elements = Table("elements", "survey.report.element", [
        ("report.ikm.code", "text"), ("survey.report.element", "text"), ("survey.report.sum", "int"),
        ("survey.report.nrr", "num"), ("survey.report.weighted", "num")],
        [[e["code"], e["name_id"], e["sum"], e["nrr"], e["weighted"]] for e in o["elements"]])
    elements.rows.append(["survey.report.unit_value", "", None, None, o["unit_value"]])
    comments = Table("comments", "survey.report.comments", [
        ("report.date", "date"), ("report.service", "text"), ("survey.report.filter_counter", "text"),
        ("survey.report.comments", "text")],
        [[c["day"], c["service"], c["counter"], c["comment"]] for c in report["comments"]])
    return [summary, elements,
            _ikm_group("by_service", "survey.report.by_service", "report.service", report["by_service"], o["elements"]),
            _ikm_group("by_counter", "survey.report.by_counter", "survey.report.filter_counter", report["by_counter"],
                       o["elements"]),
            comments]


def complaint_tables(report: dict) -> list[Table]:
    """Tables of ``complaints.report.complaint_report``: times (all, then per kind; first
    answer and resolution in s), counts by kind, by channel, by outcome (contacts, closed
    and open first)."""
    t = report["totals"]
    times = Table("times", "complaints.report.times", [
        ("complaints.col.kind", "text"), ("complaints.report.measure", "text"), ("complaints.report.count", "int"),
        ("complaints.report.mean", "s"), ("complaints.report.median", "s"), ("complaints.report.max", "s")])
    for key, figures in [("complaints.report.all", t), *[(f"complaints.kind.{k}", v) for k, v in report["kinds"].items()]]:
        for measure in ("first_answer", "resolution"):
            d = figures[measure]
            times.rows.append([key, f"complaints.report.{measure}", d["count"], d["mean_s"], d["median_s"], d["max_s"]])
    counts = Table("totals", "complaints.report_title", [("report.k.measure", "text"), ("report.count", "int")],
                   [["report.akp.contacts", t["contacts"]], ["report.akp.closed", t["closed"]],
                    ["report.akp.open", t["open"]]])
    out = [counts, times]
    for part, prefix in (("by_kind", "complaints.kind."), ("by_channel", "complaints.channel."),
                         ("by_outcome", "complaints.outcome.")):
        out.append(Table(part, f"complaints.report.{part}", [("report.akp.value", "text"), ("report.count", "int")],
                         [[prefix + k, n] for k, n in report[part].items()]))
    return out


def activation_tables(report: dict) -> list[Table]:
    """Tables of ``activation.report.activation_report``: per day (total last), refusals by
    reason, and the queues (activation services first) with waiting and service time in s."""
    keys = ("activations", "fingerprint_failures", "blocked", "released")
    days = Table("days", "report.act.title", [
        ("report.date", "date"), ("report.act.activations", "int"), ("report.act.fp_failures", "int"),
        ("report.act.blocked", "int"), ("report.act.released", "int"), ("report.act.refusals", "int")],
        [[d["date"], *[d[k] for k in keys], sum(d["refusals"].values())] for d in report["days"]])
    days.rows.append(["report.total", *[report["totals"][k] for k in keys], sum(report["totals"]["refusals"].values())])
    reasons = Table("refusals", "report.act.by_reason", [("report.act.reason", "text"), ("report.count", "int")],
                    [[r["reason"], r["count"]] for r in report["refusals_by_reason"]])
    queues = Table("queues", "report.act.queues", [
        ("report.service", "text"), ("report.issued", "int"), ("report.served", "int"), ("report.no_show", "int"),
        *_stat_columns("wait"), *_stat_columns("svc")],
        [[f"{q['letter']} · {q['name_id']}", q["issued"], q["served"], q["no_show"],
          *[q["wait_time"][k] for k in STAT_KEYS], *[q["service_time"][k] for k in STAT_KEYS]]
         for q in report["queue"]])
    return [days, reasons, queues]
