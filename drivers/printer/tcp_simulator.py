"""A network ESC/POS printer on loopback: a real TCP endpoint (port 9100 style), no mocks.

:class:`TcpPrinterSimulator` listens on a socket in a thread and serves one connection at a
time, like a printer's raw port: the bytes go through :class:`.stream.PrinterStream`, which
answers ``DLE EOT n`` and ``GS r 1`` with real status bytes and parses each ticket (text
lines, QR payloads and settings, cut). Faults on demand:

- ``paper_low``: answers the near-end bits, prints;
- ``paper_out``: answers the paper-end bits and silently swallows print bytes (the write
  succeeds: the trap a sender must check the status for);
- ``offline``: answers nothing, resets the open connection and every new one;
- :meth:`TcpPrinterSimulator.paper_out_after`: the roll ends after N more print bytes (a
  partial slip without a cut, the rest dropped, then paper_out);
- :meth:`TcpPrinterSimulator.die_after`: the printer loses power after N more bytes (the
  connection is reset, the partial ticket lost).

Standalone, for demos: ``python -m drivers.printer.tcp_simulator --port 9100``; tickets are
printed to stdout; type ``ok``, ``paper_low``, ``paper_out``, ``offline`` or ``error`` and
Enter to switch states, or ``runout N`` to end the roll after N more print bytes.
"""
from __future__ import annotations

import argparse
import select
import socket
import struct
import sys
import threading

from .base import PrinterState
from .stream import PrinterStream, ReceivedTicket


def _reset(sock: socket.socket) -> None:
    """Close with a TCP RST (SO_LINGER 0), as a printer losing power or refusing would."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


class TcpPrinterSimulator:
    """An ESC/POS printer on ``host:port`` (port 0: a free one); see the module docstring.

    ``stream``: the :class:`PrinterStream` (tickets, received bytes, state). ``connections``:
    connections served so far. ``on_cut``: see :class:`PrinterStream` (also settable later
    as ``stream.on_cut``). Use as a context manager or call :meth:`start` / :meth:`stop`.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, state: PrinterState = PrinterState.OK,
                 on_cut=None) -> None:
        self.host, self.port = host, port
        self.stream = PrinterStream(state, on_cut=on_cut)
        self.connections = 0
        self._die_after: int | None = None
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    # -- control --------------------------------------------------------------------------
    def start(self) -> "TcpPrinterSimulator":
        """Listen and serve in a daemon thread; returns self."""
        self._listener = socket.create_server((self.host, self.port), backlog=8)
        self.port = self._listener.getsockname()[1]
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, name=f"escpos-sim:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the port."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def __enter__(self) -> "TcpPrinterSimulator":
        return self.start() if self._thread is None else self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def uri(self) -> str:
        """The URI the kiosk agent takes (``--printer``)."""
        return f"tcp://{self.host}:{self.port}"

    @property
    def state(self) -> PrinterState:
        return self.stream.state

    def set_state(self, state: PrinterState | str) -> None:
        """Switch to ok, paper_low, paper_out, offline or error."""
        self.stream.set_state(PrinterState(state))

    def paper_out_after(self, nbytes: int) -> None:
        """The roll ends after ``nbytes`` more print bytes; see :meth:`PrinterStream.paper_out_after`."""
        self.stream.paper_out_after(nbytes)

    def die_after(self, nbytes: int) -> None:
        """Reset the connection after ``nbytes`` more bytes (the job in progress is lost)."""
        self._die_after = nbytes

    @property
    def tickets(self) -> list[ReceivedTicket]:
        return self.stream.tickets

    def wait_for_tickets(self, count: int, timeout: float = 10.0) -> list[ReceivedTicket]:
        """See :meth:`PrinterStream.wait_for_tickets`."""
        return self.stream.wait_for_tickets(count, timeout)

    # -- serving --------------------------------------------------------------------------
    def _serve(self) -> None:
        listener = self._listener
        assert listener is not None  # start() makes it before the thread
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([listener], [], [], 0.05)
                if not ready:
                    continue
                conn, _addr = listener.accept()
            except OSError:
                return
            self.connections += 1
            if self.stream.state is PrinterState.OFFLINE:
                _reset(conn)
                continue
            self._handle(conn)

    def _handle(self, conn: socket.socket) -> None:
        aborted = False
        try:
            while not self._stop.is_set():
                if self.stream.state is PrinterState.OFFLINE:
                    aborted = True
                    break
                ready, _, _ = select.select([conn], [], [], 0.05)
                if not ready:
                    continue
                data = conn.recv(65536)
                if not data:
                    break
                if self._die_after is not None:
                    data = data[:self._die_after]
                    self._die_after -= len(data)
                    if self._die_after <= 0:
                        self._die_after = None
                        self.stream.feed(data)
                        aborted = True
                        break
                replies = self.stream.feed(data)
                if replies:
                    conn.sendall(replies)
        except OSError:
            aborted = True
        finally:
            self.stream.end_of_stream(aborted=aborted)
            _reset(conn) if aborted else conn.close()


def _print_ticket(ticket: ReceivedTicket) -> None:
    print("\n".join(ticket.lines + [f"[QR {q.ecc} {q.module_size}] {q.data}" for q in ticket.qr_codes]
                    + ["-" * 20 + (" cut" if ticket.cut else " (no cut)")]), flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the simulator until Ctrl-C or end of input; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m drivers.printer.tcp_simulator", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--state", default="ok", choices=[s.value for s in PrinterState])
    args = parser.parse_args(argv)
    sim = TcpPrinterSimulator(args.host, args.port, PrinterState(args.state)).start()
    print(f"ESC/POS printer simulator on {sim.uri} ({sim.state.value}); type a state and Enter to switch",
          file=sys.stderr, flush=True)
    shown = 0

    def show() -> None:
        nonlocal shown
        while not sim._stop.is_set():
            try:
                tickets = sim.wait_for_tickets(shown + 1, timeout=0.5)
            except TimeoutError:
                continue
            for ticket in tickets[shown:]:
                _print_ticket(ticket)
            shown = len(tickets)

    threading.Thread(target=show, daemon=True).start()
    try:
        for line in sys.stdin:
            word = line.strip().lower()
            if word.startswith("runout "):
                try:
                    sim.paper_out_after(int(word.split()[1]))
                    print(f"the roll ends after {word.split()[1]} more print bytes", file=sys.stderr, flush=True)
                except ValueError:
                    print("usage: runout N (N >= 0 print bytes)", file=sys.stderr)
            elif word:
                try:
                    sim.set_state(word)
                    print(f"state: {sim.state.value}", file=sys.stderr, flush=True)
                except ValueError:
                    print(f"unknown state {word!r}: {', '.join(s.value for s in PrinterState)}", file=sys.stderr)
        if not sys.stdin.isatty():  # input closed (e.g. started in the background): keep serving
            threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
