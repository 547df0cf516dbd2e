"""A call run in a thread and timed: the tests that prove a server keeps answering one
client while another's request waits (tests/server/test_demo_stall.py,
tests/server/test_serve_cooperative.py)."""
from __future__ import annotations

import threading
import time


def timed_in_thread(call) -> tuple[threading.Thread, dict]:
    """Start ``call()`` in a thread; returns (the thread, a dict that gets ``"answer"``, the
    call's result, and ``"seconds"``, its duration, when it returns)."""
    result: dict = {}

    def run():
        started = time.monotonic()
        result["answer"] = call()
        result["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result
