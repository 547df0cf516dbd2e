"""The managers' live dashboard (issue 7): the per-office snapshot and the office's
alert thresholds. No Flask; the API (``server.api.dashboard``) and the page
(``server.web.dashboard_pages``) call these.

- ``snapshot``: :func:`dashboard_snapshot`, every figure with its definition;
- ``late_files``: open applications against their step standards and completion times;
- ``thresholds``: ``office.settings["dashboard"]`` keys, defaults, validation, saving
  (audited) and which thresholds a snapshot crosses.
"""
from .snapshot import dashboard_snapshot
from .thresholds import DEFAULTS, LIMITS, office_thresholds, parse_thresholds, save_thresholds

__all__ = ["DEFAULTS", "LIMITS", "dashboard_snapshot", "office_thresholds", "parse_thresholds", "save_thresholds"]
