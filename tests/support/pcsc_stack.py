"""A private PC/SC stack for tests and development: ``pcscd`` with vsmartcard ``vpcd`` readers.

**TEST MACHINES ONLY.** The vpcd driver listens on *all* network interfaces (INADDR_ANY,
no authentication): anyone who can reach its port can put a "card" on the reader. Never
install ``vsmartcard-vpcd`` or run this on a production station.

Isolation, so tests never touch (or depend on) a system pcscd:

- pcscd hard-codes its socket and pid file in ``/run/pcscd``. We run it in a private mount
  namespace (``unshare --mount``; as non-root ``unshare --user --map-root-user --mount``)
  where ``/run/pcscd`` is a bind mount of our own directory, so the daemon's socket is
  ``<run_dir>/run/pcscd.comm`` and its pid file never clashes with another pcscd;
- in the same namespace an empty tmpfs hides ``/usr/lib/pcsc/drivers``, so the private
  daemon loads no USB driver and never grabs a real reader plugged into the machine; the
  vpcd driver is loaded from copies in ``<run_dir>/lib``, one per configured name: vpcd
  keeps its sockets in a global array indexed by slot number, so two entries sharing one
  library overwrite each other's slots (the first reader then never sees a card);
- reader configuration comes from ``<run_dir>/conf`` (``pcscd --config``), each reader on
  free TCP ports (under pytest-xdist, of the worker's own block: tests/workers.py), so it
  does not clash with ``/etc/reader.conf.d/vpcd`` (port 35963) nor with another worker's stack;
- clients (pyscard) find the daemon through ``PCSCLITE_CSOCK_NAME``. libpcsclite reads
  that variable **once per process**, at the first PC/SC call: a process can use one
  stack for its whole life. :meth:`PcscStack.start` sets it in ``os.environ`` and the
  run directory defaults to one per process (so one per pytest-xdist worker: workers never
  share a daemon), and restarts keep the same socket path.

Each configured name gives ``VPCD_SLOTS`` readers (vpcd opens one slot per port, from
the configured port upward): "Loket Test A" → "Loket Test A 00 00" on port p and "Loket
Test A 00 01" on port p+1 (pcscd appends the slot; the middle number only grows when two
entries share a name, which we refuse). A virtual card (:mod:`tests.support.vicc`) connects to a slot's
port.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from drivers.errors import DeviceError, DeviceUnavailable
from tests.workers import free_ports

VPCD_LIB = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
VPCD_SLOTS = 2
"""Slots (readers) per vpcd configuration entry in the Debian build (VPCDSLOTS)."""
PCSCD = "pcscd"
PCSC_DRIVERS = "/usr/lib/pcsc/drivers"

# Runs inside the new mount namespace: $1 run dir, $2 config dir, then pcscd's flags.
_NAMESPACE_SCRIPT = """set -e
mkdir -p /run/pcscd
mount --bind "$1" /run/pcscd
if [ -d {drivers} ]; then mount -t tmpfs -o size=64k,mode=755 loket-no-usb-drivers {drivers}; fi
conf="$2"; shift 2
exec {pcscd} --foreground --config "$conf" "$@"
"""


@dataclass(frozen=True)
class VirtualReader:
    """One vpcd slot: the PC/SC reader ``name`` and the TCP ``port`` its card connects to."""

    name: str
    port: int


def free_port_run(count: int) -> int:
    """A port p such that p .. p+count-1 are free on all interfaces (vpcd binds them all)
    right now; under pytest-xdist, of this worker's own ports (:mod:`tests.workers`), so
    two workers' stacks never configure the same port."""
    try:
        return free_ports(count)
    except RuntimeError as exc:
        raise DeviceError(f"no free TCP ports for vpcd: {exc}") from None


class PcscStack:
    """A private pcscd with one vpcd entry per name in ``names`` (TEST MACHINES ONLY).

    ``run_dir``: where the socket, config and log live (default: one directory per
    process under the temp dir); ``debug``: pcscd logs at debug level with APDUs.
    """

    def __init__(self, names: Sequence[str] = ("Loket Test A",), *, run_dir: str | Path | None = None,
                 debug: bool = False) -> None:
        self.names = list(names)
        self.run_dir = Path(run_dir or Path(tempfile.gettempdir()) / f"loket-pcsc-{os.getpid()}")
        self.debug = debug
        self.proc: subprocess.Popen | None = None
        self._ports: dict[str, int] = {}  # kept across restarts: cards reconnect to the same port

    # -- paths --------------------------------------------------------------------------
    @property
    def socket_path(self) -> Path:
        """The daemon's socket (what ``PCSCLITE_CSOCK_NAME`` must name)."""
        return self.run_dir / "run" / "pcscd.comm"

    @property
    def log_path(self) -> Path:
        return self.run_dir / "pcscd.log"

    @property
    def env(self) -> dict[str, str]:
        """Environment for a child process that should use this stack."""
        return {**os.environ, "PCSCLITE_CSOCK_NAME": str(self.socket_path)}

    @property
    def readers(self) -> list[VirtualReader]:
        """Every reader the running configuration defines, in order."""
        return [VirtualReader(f"{name} 00 {slot:02d}", self._ports[name] + slot)
                for name in self.names for slot in range(VPCD_SLOTS)]

    def reader(self, part: str = "") -> VirtualReader:
        """The first reader whose name contains ``part``."""
        for reader in self.readers:
            if part in reader.name:
                return reader
        raise KeyError(part)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no pcscd log)"

    # -- lifecycle ----------------------------------------------------------------------
    def start(self, names: Sequence[str] | None = None, timeout: float = 15.0) -> "PcscStack":
        """Start pcscd with vpcd readers for ``names`` (default: the constructor's) and wait
        until PC/SC lists them all. Raises DeviceUnavailable when that cannot happen."""
        if self.proc is not None:
            raise DeviceError("pcscd is already running; use restart()")
        if names is not None:
            self.names = list(names)
        if len(set(self.names)) != len(self.names):
            raise DeviceError("reader names must differ (pcscd would number them)")
        self._check_tools()
        self._point_this_process()
        for name in self.names:
            if name not in self._ports:
                taken = set(self._ports.values())
                port = free_port_run(VPCD_SLOTS)
                while any(port + i in taken for i in range(VPCD_SLOTS)):
                    port = free_port_run(VPCD_SLOTS)
                self._ports[name] = port
        self._prepare_dirs()
        self._spawn()
        self._wait_ready(timeout)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop pcscd (SIGTERM, then SIGKILL). Its readers vanish for every client."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        if proc.stdout:
            proc.stdout.close()

    def restart(self, names: Sequence[str] | None = None, timeout: float = 15.0) -> "PcscStack":
        """Stop and start again (same socket, same port for a name seen before)."""
        self.stop()
        return self.start(names, timeout)

    def close(self) -> None:
        """Stop and delete the run directory."""
        self.stop()
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def __enter__(self) -> "PcscStack":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- internals ----------------------------------------------------------------------
    def _check_tools(self) -> None:
        missing = [tool for tool in (PCSCD, "unshare") if shutil.which(tool) is None and
                   not Path("/usr/sbin", tool).exists()]
        if missing or not VPCD_LIB.exists():
            raise DeviceUnavailable(
                f"PC/SC test stack needs {', '.join(missing + ([] if VPCD_LIB.exists() else [str(VPCD_LIB)]))}: "
                "apt-get install pcscd vsmartcard-vpcd util-linux (scripts/system-deps.sh)")

    def _point_this_process(self) -> None:
        current = os.environ.get("PCSCLITE_CSOCK_NAME")
        if current and current != str(self.socket_path):
            raise DeviceError(f"this process already uses the PC/SC socket {current} (libpcsclite reads "
                              "PCSCLITE_CSOCK_NAME once per process); give PcscStack that run_dir")
        os.environ["PCSCLITE_CSOCK_NAME"] = str(self.socket_path)

    def _prepare_dirs(self) -> None:
        run, conf, lib = self.run_dir / "run", self.run_dir / "conf", self.run_dir / "lib"
        for path in (run, conf):
            shutil.rmtree(path, ignore_errors=True)  # stale socket or pid file of a killed pcscd
            path.mkdir(parents=True)
        lib.mkdir(parents=True, exist_ok=True)
        for index, name in enumerate(self.names):
            # vpcd keeps its sockets in a global array indexed by slot: a second entry on the
            # same library would take over the first one's slots. One copy per entry gives
            # each its own instance (dlopen loads a different file separately).
            driver = lib / f"libifdvpcd-{index:02d}.so"
            shutil.copy2(VPCD_LIB, driver)
            port = self._ports[name]
            (conf / f"vpcd-{index:02d}").write_text(
                f'FRIENDLYNAME "{name}"\nDEVICENAME   /dev/null:0x{port:04X}\n'
                f"LIBPATH      {driver}\nCHANNELID    0x{port:04X}\n")

    def _spawn(self) -> None:
        pcscd = shutil.which(PCSCD) or f"/usr/sbin/{PCSCD}"
        script = _NAMESPACE_SCRIPT.format(drivers=PCSC_DRIVERS, pcscd=pcscd)
        flags = ["--debug", "--apdu"] if self.debug else ["--info"]
        unshare = ["unshare", "--mount", "--propagation", "private"]
        if os.geteuid() != 0:
            unshare = ["unshare", "--user", "--map-root-user", "--mount", "--propagation", "private"]
        # pcscd dies with us even if we are killed (setpriv: parent-death signal, kept across
        # exec; it fires when the *thread* that started it exits, so start from a long-lived one)
        if shutil.which("setpriv"):
            unshare = ["setpriv", "--pdeathsig", "TERM", "--", *unshare]
        env = {k: v for k, v in os.environ.items() if not k.startswith("LISTEN_")}  # no systemd activation
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                [*unshare, "sh", "-c", script, "loket-pcscd", str(self.run_dir / "run"), str(self.run_dir / "conf"),
                 *flags],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        finally:
            log.close()

    def _wait_ready(self, timeout: float) -> None:
        from drivers.smartcard.reader import list_readers

        wanted = {reader.name for reader in self.readers}
        deadline = time.monotonic() + timeout
        seen: list[str] = []
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                code = None if self.proc is None else self.proc.returncode
                self.proc = None
                raise DeviceUnavailable(f"private pcscd exited (code {code}):\n{self.log_tail()}")
            if self.socket_path.exists():
                try:
                    seen = list_readers()
                except DeviceError:
                    seen = []
                if wanted <= set(seen):
                    return
            time.sleep(0.05)
        self.stop()
        raise DeviceUnavailable(f"private pcscd: readers {sorted(wanted - set(seen))} missing after {timeout} s:\n"
                                f"{self.log_tail()}")


def _interrupt(*_args) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.support.pcsc_stack [NAME...]`` (from the repository root): run a private stack until Ctrl-C."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tests.support.pcsc_stack",
                                     description="Private pcscd with vpcd readers. TEST MACHINES ONLY.")
    parser.add_argument("names", nargs="*", default=["Loket Test A"], help="reader names (each gives 2 slots)")
    parser.add_argument("--debug", action="store_true", help="pcscd debug log with APDUs")
    args = parser.parse_args(argv)
    stack = PcscStack(args.names, debug=args.debug).start()
    print(f"export PCSCLITE_CSOCK_NAME={stack.socket_path}")
    for reader in stack.readers:
        print(f"{reader.name!r}: python -m tests.support.vicc --port {reader.port}")
    print(f"pcscd log: {stack.log_path}  (Ctrl-C stops)", flush=True)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        while stack.proc is not None and stack.proc.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    stack.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
