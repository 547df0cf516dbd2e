"""The managers' live dashboard snapshot (issue 7): one office's figures and alerts."""
from __future__ import annotations

from ..models import Role
from ..services.dashboard import dashboard_snapshot
from . import bp
from .contract import access, errors
from .helpers import get_office, transaction
from .schemas.dashboard import DashboardAnswer

#: Who may read an office's dashboard (admins hold every role).
VIEWERS = (Role.MANAGER, Role.SECTION_HEAD, Role.DIVISION_HEAD, Role.HEAD_OF_OFFICE)


@bp.get("/offices/<code>/dashboard")
@access(roles=VIEWERS)
@bp.response(200, DashboardAnswer)
@errors(404)
def dashboard(code: str):
    """The live dashboard of an office, now: queues per service, longest current wait,
    counters with their officer, calls in the last hour, no-show rate today, unhealthy
    stations, applications late at their SOP step or overdue in working days, activations
    today, and the office's thresholds with the ones crossed (``alerts``). Managers,
    section and division heads, the head of office (own office) and admins; 403 another
    office or a role without the dashboard, 404 unknown office. Seconds unless a name ends
    in ``_min`` or ``_pct``; no citizen names or NIK (``services.dashboard.snapshot``)."""
    with transaction() as s:
        return dashboard_snapshot(s, get_office(s, code))
