"""The command line of the kiosk / counter printer agent: ``loket agent kiosk|printer ...``
(also ``python -m kiosk.agent ...``); the agent itself is :class:`kiosk.agent.KioskAgent`."""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

from drivers.errors import DeviceError
from drivers.qr.reading import add_reading_options, devices_from_args

from .agent import KioskAgent
from .journal import PrintJournal, default_path
from .scanning import DEFAULT_HOLD_S

log = logging.getLogger("kiosk.agent")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Options of ``loket agent kiosk``."""
    parser = argparse.ArgumentParser(
        prog="loket agent kiosk",
        description="Kiosk or counter printer agent: prints the tickets issued at this kiosk, or the resi "
                    "sent to this counter printer (`loket agent printer` is the same program).",
        epilog="Printer URIs: tcp://HOST[:9100], serial:///dev/ttyUSB0?baudrate=19200, usb://VVVV:PPPP, "
               "file:///dev/usb/lp0, sim:// (see drivers/printer/README.md).")
    parser.add_argument("--server", required=True, help="Loket server base URL, e.g. https://antrian.example.go.id")
    parser.add_argument("--token", default=os.environ.get("LOKET_DEVICE_TOKEN"),
                        help="this kiosk's device token (default: $LOKET_DEVICE_TOKEN; keeps it out of `ps`)")
    parser.add_argument("--printer", required=True, help="printer URI")
    parser.add_argument("--paper", type=int, choices=(58, 80), default=80, help="paper width in mm (default 80)")
    parser.add_argument("--tz", default=None, help="IANA zone for the printed time when the job has none, e.g. Asia/Jakarta")
    parser.add_argument("--poll", type=float, default=2.0, help="status check interval (s) while the printer is unavailable")
    parser.add_argument("--status-interval", type=float, default=5.0, help="status check interval (s) while idle")
    parser.add_argument("--journal", default=None,
                        help="print journal file (a job is never printed twice, even after a kill or power cut; "
                             "default: $LOKET_DATA_DIR, else $XDG_STATE_HOME/loket or ~/.local/state/loket, "
                             "print-journal-<device>.jsonl)")
    add_reading_options(parser, what="booking QR", hold_s=DEFAULT_HOLD_S)
    parser.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("--token (or $LOKET_DEVICE_TOKEN) is required")
    return args


def build_agent(args: argparse.Namespace) -> KioskAgent:
    """The agent, its printer, its print journal and its optional QR camera / scanner for
    parsed ``args`` (ValueError / DeviceError on a bad printer or decoder, OSError when the
    journal cannot be opened)."""
    from drivers.printer.transports import printer_from_uri

    printer = printer_from_uri(args.printer, width_mm=args.paper, tz=args.tz)
    camera, scanner, decoder = devices_from_args(args)
    journal = PrintJournal(args.journal or default_path(args.token))
    return KioskAgent(args.server, args.token, printer, poll_s=args.poll, status_interval_s=args.status_interval,
                      journal=journal, camera=camera, scanner=scanner, decoder=decoder, fps=args.fps, hold_s=args.hold)


def _not_escpos_chatter(record: logging.LogRecord) -> bool:
    """python-escpos logs each connection open/close on the root logger at INFO: drop those."""
    return record.levelno >= logging.WARNING or f"{os.sep}escpos{os.sep}" not in record.pathname


def main(argv: list[str] | None = None, stop: threading.Event | None = None) -> int:
    """``loket agent kiosk --server URL --token T --printer URI [--paper 58|80] [--tz ZONE]
    [--journal PATH] [--scanner PORT] [--camera SOURCE] [--decoder zxing|pyzbar] [--width W
    --height H] [--loop]``.

    Runs until SIGINT / SIGTERM (or until ``stop`` is set, when given); logs to stderr.
    Returns the exit status: 0 after a clean stop, 2 on a bad printer or decoder option or
    a journal that cannot be opened.
    """
    args = parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_not_escpos_chatter)
    # force: a library's module-level logging.info() may already have called basicConfig()
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        handlers=[handler], force=True)
    try:
        agent = build_agent(args)
    except (ValueError, DeviceError) as exc:
        log.error("printer %s / QR devices: %s", args.printer, exc)
        return 2
    except OSError as exc:
        log.error("print journal %s: %s", args.journal or default_path(args.token), exc)
        return 2
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    log.info("kiosk agent: server %s, printer %s (%d mm), journal %s, scanner %s, camera %s", args.server,
             args.printer, args.paper, agent.journal.path, args.scanner or "-", args.camera or "-")
    agent.start()
    try:
        while not stop.wait(1.0):
            pass
    finally:
        log.info("kiosk agent stopping (%d jobs unprinted, %d results unsent)", len(agent.pending_jobs()),
                 agent.pending_reports())
        agent.stop()
        agent.printer.close()
    return 0
