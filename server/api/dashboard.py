"""The managers' live dashboard snapshot (issue 7): one office's figures and alerts."""
from __future__ import annotations

from flask import jsonify

from ..models import Role
from ..security import require
from ..services.dashboard import dashboard_snapshot
from . import bp
from .helpers import get_office, transaction

#: Who may read an office's dashboard (admins hold every role).
VIEWERS = (Role.MANAGER, Role.SECTION_HEAD, Role.DIVISION_HEAD, Role.HEAD_OF_OFFICE)


@bp.get("/offices/<code>/dashboard")
@require(roles=VIEWERS)
def dashboard(code: str):
    """The live dashboard of an office, now: queues per service, longest current wait,
    counters with their officer, calls in the last hour, no-show rate today, unhealthy
    stations, applications late at their SOP step or overdue in working days, activations
    today, and the office's thresholds with the ones crossed (``alerts``). Managers,
    section and division heads, the head of office (own office) and admins. Seconds
    unless a name ends in ``_min`` or ``_pct``; no citizen names or NIK.
    ---
    get:
      tags: [dashboard]
      parameters: [{in: path, name: code, required: true, schema: {type: string}}]
      responses:
        200: {description: '{"office", "server_time", "day", "services": [{"code", "letter", "waiting", "serving", "longest_wait_s"}], "queue": {"waiting", "serving", "longest_wait_s", "longest_wait_number"}, "counters": [{"number", "label", "state": serving|idle|paused|closed, "officer", "current", "pause_reason"}], "counter_summary", "calls": {"last_hour", "recalls_last_hour", "per_5_min"}, "no_show": {"served", "no_show", "ended", "rate_pct"}, "devices": {"total", "unhealthy", "never_reported"}, "applications": {"open", "late_steps", "overdue", "by_step", "worst"}, "activations_today", "figures", "thresholds", "alerts": [{"key", "setting", "value", "limit"}]} (services.dashboard.snapshot)'}
        401: {description: not signed in}
        403: {description: another office, or a role without the dashboard}
        404: {description: unknown office}
    """
    with transaction() as s:
        return jsonify(dashboard_snapshot(s, get_office(s, code)))
