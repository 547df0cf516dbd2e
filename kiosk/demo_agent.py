"""The kiosk (or counter printer) agent of ``loket demo``: in the server's process, on a
simulated printer, with its print journal in the data folder."""
from __future__ import annotations

import logging
from pathlib import Path

from drivers.printer.simulator import SimulatedPrinter

from .agent import KioskAgent
from .journal import PrintJournal, default_path
from .scanning import demo_scanner

log = logging.getLogger(__name__)


def start_demo_agent(app, base_url: str, token: str, key: str = "", scanner: bool = False) -> KioskAgent:
    """Run a kiosk (or counter printer) agent with a simulated printer inside the demo
    server's process; with ``scanner``, also a simulated booking scanner: the named pipe
    ``<DATA_DIR>/kiosk-scanner`` (``echo <booking QR text> > …/kiosk-scanner`` scans it).

    The printer is stored as ``app.extensions["loket_demo_printer"]`` (and the agent as
    ``"loket_demo_agent"``); with ``key`` (e.g. "counter_printer") as
    ``"loket_demo_<key>"`` and ``"loket_demo_<key>_agent"``. Each printed slip is written
    as text to ``<DATA_DIR>/printed/<job_id>.txt``; the print journal is
    ``<DATA_DIR>/print-journal-<device>.jsonl`` (:func:`kiosk.journal.default_path`). The
    agent keeps retrying until the server is up.
    """
    data_dir = Path(app.config["DATA_DIR"])
    printer = SimulatedPrinter(width_mm=80, tz=_office_timezone(app, token), paper_dir=data_dir / "printed")
    reader = demo_scanner(data_dir / "kiosk-scanner") if scanner else None
    journal = PrintJournal(default_path(token, str(data_dir)))
    agent = KioskAgent(base_url, token, printer, scanner=reader, journal=journal)
    app.extensions[f"loket_demo_{key}" if key else "loket_demo_printer"] = printer
    app.extensions[f"loket_demo_{key}_agent" if key else "loket_demo_agent"] = agent
    agent.start()
    return agent


def _office_timezone(app, token: str) -> str | None:
    """The time zone of the kiosk's office (for the printed issue time), None if unknown."""
    from server.models import Office
    from server.services.accounts import authenticate_device

    try:
        with app.extensions["loket"].db.session() as s:
            device = authenticate_device(s, token)
            office = s.get(Office, device.office_id) if device is not None else None
            return office.timezone if office is not None else None
    except Exception as exc:  # the ticket then shows the time as sent (UTC)
        log.warning("office time zone unknown: %s", exc)
        return None
