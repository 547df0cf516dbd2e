"""Queue rules an office can set (``office.settings["queue"]``), with their defaults."""
from __future__ import annotations

from dataclasses import dataclass, fields

from ...models import Office


@dataclass(frozen=True)
class QueueRules:
    """The office's calling rules.

    - ``priority_regular_ratio``: regular tickets called between two priority ones (default
      2, i.e. 1 priority : 2 regular; UU 25/2009 art. 29 gives priority citizens precedence).
    - ``aging_limit_minutes``: a ticket waiting longer than this is called first, priority or not.
    - ``skip_requeue_after_calls``: a skipped ticket is callable again after N further calls
      of its service; ``skip_limit``: the M-th skip marks it no-show.
    - ``estimate_window``: how many recent finished tickets measure the service time.
    - ``enforce_hours``: refuse new tickets outside opening hours.
    """

    priority_regular_ratio: int = 2
    aging_limit_minutes: int = 60
    skip_requeue_after_calls: int = 3
    skip_limit: int = 2
    estimate_window: int = 20
    enforce_hours: bool = True

    @classmethod
    def for_office(cls, office: Office) -> "QueueRules":
        """The rules stored on ``office``; unknown keys are ignored, missing ones default."""
        raw = (office.settings or {}).get("queue", {})
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})
