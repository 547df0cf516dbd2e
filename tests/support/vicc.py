"""A virtual contactless card for the vsmartcard ``vpcd`` reader driver, in its own process.

    python -m tests.support.vicc --port 35963 --uid 04A1B2C3D4E5F6 \\
        --atr 3B8F8001804F0CA000000306030001000000006A

The vpcd driver inside pcscd listens on a TCP port (35963 by default, one port per slot);
the card **connects** to it: a connected card is a card on the reader, closing the socket
takes it away. Messages both ways are a 2-byte big-endian length, then the payload. From
pcscd, a 1-byte payload is a control command — 0x00 power off, 0x01 power on, 0x02 reset
(no answer to these three), 0x04 get ATR (answer: the ATR bytes); pcscd asks for the ATR
on every presence poll (~400 ms). Any longer payload is a command APDU, answered with the
response APDU (data + SW1 SW2). (vsmartcard's ``vpcd.c``, ``vicc_transmit`` and friends.)

Debian's packaged ``vicc`` cannot answer the PC/SC GET DATA pseudo-APDU, so this card
answers like a contactless reader holding an ISO 14443 card does:

- ``FF CA 00 00 Le``: the UID + 90 00 (6C xx when Le is neither 00 nor the UID length);
  ``FF CA 01 ..`` (ATS) → 6A 81;
- SELECT (``.. A4 ..``) → 6A 82 (no application: we are not a KTP-el applet);
- anything else → 6D 00.

Control, one command per line on stdin (answers on stdout, one line each):
``insert`` (connect to vpcd; "inserted" once connected), ``remove`` (close; "removed"),
``pull-mid-apdu`` (arm: at the next APDU, drop the connection without answering, as a
card pulled out of the field mid-read; "pulled"), ``uid HEX``, ``atr HEX``, ``quit``.
Each command is acknowledged with ``ok <command>``. While inserted, a connection lost on
pcscd's side (pcscd restarted) is retried: the card stays on the reader.

:class:`VirtualCard` starts and drives that process from tests and benchmarks. Test-only:
not part of the installed packages (run it from the repository root).
"""
from __future__ import annotations

import argparse
import queue
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

from drivers.smartcard.simulator import DEFAULT_ATR

ROOT = Path(__file__).resolve().parents[2]
"""The repository root: ``python -m tests.support.vicc`` runs from there."""

DEFAULT_UID = "04A1B2C3D4E5F6"
VPCD_PORT = 35963

CTRL_OFF, CTRL_ON, CTRL_RESET, CTRL_ATR = 0x00, 0x01, 0x02, 0x04
SW_OK = b"\x90\x00"
SW_NOT_FOUND = b"\x6a\x82"
SW_FUNC_NOT_SUPPORTED = b"\x6a\x81"
SW_INS_NOT_SUPPORTED = b"\x6d\x00"


def answer_apdu(apdu: bytes, uid: bytes) -> bytes:
    """The response APDU this card gives to ``apdu``."""
    if len(apdu) >= 4 and apdu[0] == 0xFF and apdu[1] == 0xCA:
        if apdu[2] != 0x00:
            return SW_FUNC_NOT_SUPPORTED
        le = apdu[4] if len(apdu) >= 5 else 0
        if le not in (0, len(uid)):
            return bytes([0x6C, len(uid)])
        return uid + SW_OK
    if len(apdu) >= 4 and apdu[1] == 0xA4:
        return SW_NOT_FOUND
    return SW_INS_NOT_SUPPORTED


class _Card:
    """The process side: one connection to vpcd at a time, controlled from stdin."""

    def __init__(self, host: str, port: int, uid: bytes, atr: bytes, out) -> None:
        self.host, self.port, self.uid, self.atr, self.out = host, port, uid, atr, out
        self.want_inserted = False
        self.pull_armed = False
        self.quit = False
        self.sock: socket.socket | None = None
        self._cond = threading.Condition()

    def say(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()

    # -- commands (stdin thread) --------------------------------------------------------
    def command(self, line: str) -> bool:
        """Run one control command; False on ``quit``."""
        word, _, arg = line.strip().partition(" ")
        with self._cond:
            if word == "insert":
                self.want_inserted = True
                self._cond.notify_all()
            elif word == "remove":
                self.want_inserted = False
                self._drop()
            elif word == "pull-mid-apdu":
                self.pull_armed = True
            elif word in ("uid", "atr") and arg:
                try:
                    setattr(self, word, bytes.fromhex(arg))
                except ValueError:
                    self.say(f"error bad hex: {arg}")
                    return True
            elif word == "quit":
                self.quit, self.want_inserted = True, False
                self._drop()
                self._cond.notify_all()
            elif word:
                self.say(f"error unknown command: {word}")
                return True
            else:
                return True
        self.say(f"ok {word}")
        return word != "quit"

    def _drop(self) -> None:
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # -- the link to vpcd (its own thread) ----------------------------------------------
    def run_link(self) -> None:
        waiting_said = False
        while True:
            with self._cond:
                while not self.want_inserted and not self.quit:
                    self._cond.wait()
                if self.quit:
                    return
            try:
                sock = socket.create_connection((self.host, self.port), timeout=1.0)
            except OSError:
                if not waiting_said:
                    self.say(f"waiting for vpcd on {self.host}:{self.port}")
                    waiting_said = True
                time.sleep(0.1)
                continue
            waiting_said = False
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            _quick_ack(sock)
            with self._cond:
                if not self.want_inserted:  # removed while connecting
                    sock.close()
                    continue
                self.sock = sock
            self.say("inserted")
            reason = self._serve(sock)
            with self._cond:
                self.sock = None
            sock.close()
            self.say(reason)

    def _serve(self, sock: socket.socket) -> str:
        while True:
            try:
                header = _recv_exact(sock, 2)
                (length,) = struct.unpack(">H", header)
                message = _recv_exact(sock, length)
            except (OSError, EOFError):
                with self._cond:
                    return "lost" if self.want_inserted else "removed"
            if length == 1:
                if message[0] == CTRL_ATR:
                    reply = self.atr
                else:
                    continue  # power off / on / reset: nothing to answer
            else:
                with self._cond:
                    if self.pull_armed:
                        self.pull_armed = self.want_inserted = False
                        return "pulled"
                reply = answer_apdu(message, self.uid)
            try:
                sock.sendall(struct.pack(">H", len(reply)) + reply)
            except OSError:
                with self._cond:
                    return "lost" if self.want_inserted else "removed"


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError("vpcd closed the connection")
        _quick_ack(sock)
        data += chunk
    return data


def _quick_ack(sock: socket.socket) -> None:
    """ACK at once (Linux resets this after each receive). vpcd leaves Nagle on and pcscd
    sends messages we never answer (power on/off): without quick ACKs each APDU waits for
    our delayed ACK, ~40 ms per exchange, which is vpcd's artifact, not a card's latency."""
    if hasattr(socket, "TCP_QUICKACK"):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        except OSError:
            pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.vicc", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1", help="where pcscd's vpcd listens")
    parser.add_argument("--port", type=int, default=VPCD_PORT, help="vpcd port of the reader slot")
    parser.add_argument("--uid", default=DEFAULT_UID, help="card UID, hex")
    parser.add_argument("--atr", default=DEFAULT_ATR, help="card ATR, hex")
    parser.add_argument("--removed", action="store_true", help="start off the reader (wait for 'insert')")
    parser.add_argument("--exit-on-eof", action="store_true", help="quit when stdin closes (for a controlling process)")
    args = parser.parse_args(argv)
    try:
        uid, atr = bytes.fromhex(args.uid), bytes.fromhex(args.atr)
    except ValueError as exc:
        parser.error(f"--uid/--atr must be hex: {exc}")
    card = _Card(args.host, args.port, uid, atr, sys.stdout)
    link = threading.Thread(target=card.run_link, name="vpcd-link", daemon=True)
    link.start()
    card.say("ready")
    if not args.removed:
        card.command("insert")
    try:
        for line in sys.stdin:
            if not card.command(line):
                break
        else:  # stdin closed
            if not args.exit_on_eof:
                threading.Event().wait()  # no controller: run until killed
            card.command("quit")
    except KeyboardInterrupt:
        card.command("quit")
    link.join(2.0)
    return 0


class VirtualCard:
    """Runs the virtual card process and drives it (tests, benchmarks).

    ``port``: the vpcd slot port (see :class:`tests.support.pcsc_stack.PcscStack`).
    Methods wait for the process to acknowledge; :meth:`insert` waits until the TCP
    connection to vpcd is up (pcscd notices the card at its next poll, ≤ ~0.4 s later).
    """

    def __init__(self, port: int, uid: str = DEFAULT_UID, atr: str = DEFAULT_ATR, host: str = "127.0.0.1") -> None:
        self.port, self.uid, self.atr, self.host = port, uid.upper(), atr.upper(), host
        self.proc: subprocess.Popen | None = None
        self._lines: queue.Queue[str] = queue.Queue()
        self.history: list[str] = []

    def start(self) -> "VirtualCard":
        self.proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "tests.support.vicc", "--host", self.host, "--port", str(self.port),
             "--uid", self.uid, "--atr", self.atr, "--removed", "--exit-on-eof"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1, cwd=ROOT)
        threading.Thread(target=self._read, daemon=True).start()
        self.expect("ready")
        return self

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line.strip())

    def send(self, command: str) -> None:
        assert self.proc is not None and self.proc.stdin is not None, "start() first"
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def expect(self, wanted: str, timeout: float = 10.0) -> str:
        """Wait for the output line ``wanted`` (skipping others); returns it."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"virtual card: no {wanted!r} within {timeout} s (saw {self.history[-5:]})")
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                continue
            self.history.append(line)
            if line == wanted:
                return line

    def insert(self, timeout: float = 10.0) -> None:
        """Put the card on the reader (returns once connected to vpcd)."""
        self.send("insert")
        self.expect("inserted", timeout)

    def remove(self) -> None:
        """Take the card away (returns once the connection is closed)."""
        self.send("remove")
        self.expect("ok remove")

    def arm_pull(self) -> None:
        """Make the next APDU find the card gone: the connection drops without an answer."""
        self.send("pull-mid-apdu")
        self.expect("ok pull-mid-apdu")

    def set_uid(self, uid: str) -> None:
        """Become another card (takes effect at the next GET DATA)."""
        self.uid = uid.upper()
        self.send(f"uid {self.uid}")
        self.expect("ok uid")

    def close(self) -> None:
        """Quit the process (kill it if it does not)."""
        if self.proc is None:
            return
        try:
            self.send("quit")
            self.proc.stdin.close()
            self.proc.wait(3)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait(3)
        self.proc = None

    def __enter__(self) -> "VirtualCard":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


if __name__ == "__main__":
    sys.exit(main())
