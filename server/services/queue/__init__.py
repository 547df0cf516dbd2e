"""The queue engine: issue, call, serve and close tickets (no Flask imports).

Public entry points are re-exported here; each lives in a module named after what it does.
"""
from .calling import call_next, call_specific, finish, recall, skip, start, transfer
from .counters import close_counter, open_counter, pause_counter, resume_counter
from .day_close import close_day
from .estimate import Estimate, estimate_wait
from .issuing import cancel_ticket, issue_ticket
from .rules import QueueRules

__all__ = [
    "Estimate", "QueueRules", "call_next", "call_specific", "cancel_ticket", "close_counter",
    "close_day", "estimate_wait", "finish", "issue_ticket", "open_counter", "pause_counter",
    "recall", "resume_counter", "skip", "start", "transfer",
]
