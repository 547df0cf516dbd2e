"""The simulated day's report: server seconds scaled back to simulated minutes, as a table.

The server measures real time; the simulation runs ``speed`` times faster, so a duration of
``x`` server seconds is ``x × speed`` simulated seconds, i.e. ``x × speed / 60`` simulated
minutes. Request latency is scaled too (20 ms at speed 600 reads as 12 simulated seconds).
"""
from __future__ import annotations

STAT_KEYS = ("mean", "p50", "p90", "max")


def _scale_stats(stats: dict, speed: float) -> dict:
    """{count, mean_s, p50_s, ...} in server seconds → {count, mean_min, p50_min, ...}
    in simulated minutes (None stays None)."""
    out = {"count": stats.get("count", 0)}
    for key in STAT_KEYS:
        value = stats.get(f"{key}_s")
        out[f"{key}_min"] = None if value is None else round(value * speed / 60.0, 1)
    return out


def _scale_row(row: dict, speed: float, codes: dict[str, str]) -> dict:
    row = dict(row)
    if "letter" in row:
        row["code"] = row.get("service") or codes.get(row["letter"], row["letter"])
    row["wait_min"] = _scale_stats(row.pop("wait_time", {}), speed)
    row["service_min"] = _scale_stats(row.pop("service_time", {}), speed)
    return row


def scale_report(raw: dict, speed: float, codes: dict[str, str]) -> dict:
    """The server's day report (GET /offices/<code>/reports/day) with every waiting and
    service time converted to simulated minutes; the raw report is kept under ``server``.
    ``codes``: service code by letter (from the catalog)."""
    return {
        "office": raw["office"],
        "day": raw["day"],
        "time_unit": f"simulated minutes (server seconds x speed {speed:g} / 60)",
        "total": _scale_row(raw["total"], speed, codes),
        "services": [_scale_row(r, speed, codes) for r in raw["services"]],
        "server": raw,
    }


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.1f}"


def format_report(report: dict) -> str:
    """A readable table of a scaled report (see :func:`scale_report`) with the display's
    figures (``report["display"]``) and how the day ran (``report["simulation"]``)."""
    sim, disp = report.get("simulation", {}), report.get("display", {})
    head = (f"{'service':<16}{'issued':>7}{'served':>7}{'no-show':>8}{'waiting':>8}{'cancel':>7}"
            f"{'wait p50':>9}{'wait p90':>9}{'svc p50':>8}{'svc p90':>8}")
    lines = [
        "",
        f"Day report {report['office']} {report['day']}: times in SIMULATED minutes "
        f"(server seconds x speed {sim.get('speed', 0):g} / 60)",
        head,
        "-" * len(head),
    ]

    def row(label: str, r: dict) -> str:
        w, s = r["wait_min"], r["service_min"]
        return (f"{label:<16}{r['issued']:>7}{r['served']:>7}{r['no_show']:>8}{r['waiting']:>8}"
                f"{r['cancelled']:>7}{_fmt(w['p50_min']):>9}{_fmt(w['p90_min']):>9}"
                f"{_fmt(s['p50_min']):>8}{_fmt(s['p90_min']):>8}")

    for r in report["services"]:
        lines.append(row(f"{r['letter']} {r.get('code', '')}", r))
    lines.append("-" * len(head))
    lines.append(row("TOTAL", report["total"]))
    lines.append(f"priority tickets: {report['total'].get('priority', 0)}; waiting = issue to first call, "
                 "svc = start to finish")
    if disp:
        lines.append(f"display: {disp.get('calls_received')} calls shown for {disp.get('calls_made')} calls made, "
                     f"{disp.get('calls_spoken')} spoken ({disp.get('spoken_twice')} twice); {disp.get('gaps')} never "
                     f"shown; {disp.get('syncs')} syncs")
    if sim:
        lines.append(f"simulation: seed {sim.get('seed')}, {sim.get('counters')} counters, ended "
                     f"{sim.get('ended')} at {sim.get('end_clock')} simulated after {sim.get('real_seconds')} s "
                     f"real; kiosk lag max {sim.get('kiosk_lag_max_min')} simulated min")
        if sim.get("tickets", 0) > report["total"]["issued"] or (sim.get("kiosk_lag_max_min") or 0) > 30:
            lines.append(f"note: {report['total']['issued']} of {sim.get('tickets')} citizens got a ticket and the "
                         f"kiosks ran late: the server could not keep up at speed {sim.get('speed', 0):g}; "
                         "try a lower --speed")
    return "\n".join(lines)
