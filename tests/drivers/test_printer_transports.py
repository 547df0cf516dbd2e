"""Printer transports against real stacks: TCP to the simulator endpoint, a socat pty pair,
files; and the kiosk agent with a real Loket server printing over TCP through faults."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest
import segno
import serial
import zxingcpp

from drivers.errors import DeviceError, DeviceUnavailable
from drivers.printer import PrinterState, render_ticket
from drivers.printer.simulator import SimulatedPrinter
from drivers.printer.status import decode_status
from drivers.printer.stream import PrinterStream
from drivers.printer.tcp_simulator import TcpPrinterSimulator
from drivers.printer.transport import NO_READBACK
from drivers.printer.transports import FilePrinter, NetworkPrinter, SerialPrinter, printer_from_uri
from kiosk.agent import KioskAgent
from tests.drivers.test_printer import FIXTURES, JOB
from tests.kiosk.test_agent import issue, wait_status
from tests.live import free_port, wait_for

STATUS_QUERIES = b"\x10\x04\x01\x10\x04\x04"  # DLE EOT 1, DLE EOT 4: before every ticket
#: After it: DLE EOT 1 (answered only once every byte before it arrived) and DLE EOT 4 (paper
#: end right after the job means it was cut short: reprint).
CONFIRM = b"\x10\x04\x01\x10\x04\x04"

#: What the simulator answers to DLE EOT 1, 2, 3, 4 and GS r 1, per state (Epson bit layout).
STATUS_BYTES = {
    PrinterState.OK: (0x12, 0x12, 0x12, 0x12, 0x00),
    PrinterState.PAPER_LOW: (0x12, 0x12, 0x12, 0x1E, 0x03),
    PrinterState.PAPER_OUT: (0x1A, 0x32, 0x12, 0x7E, 0x0F),
    PrinterState.ERROR: (0x1A, 0x52, 0x1A, 0x12, 0x00),
}


@pytest.fixture
def sim():
    with TcpPrinterSimulator() as endpoint:
        yield endpoint


# -- network: exact bytes, status, faults ------------------------------------------------------
@pytest.mark.parametrize("width", [58, 80])
def test_reference_ticket_over_tcp(sim, width):
    printer = printer_from_uri(sim.uri, width_mm=width, tz="Asia/Jakarta")
    printer.print_ticket(JOB)
    [ticket] = sim.wait_for_tickets(1)
    expected = (FIXTURES / f"ticket_{width}.bin").read_bytes()
    assert ticket.raw == expected
    assert bytes(sim.stream.received) == STATUS_QUERIES + expected + CONFIRM
    assert ticket.cut and ticket.large == ["A012"] and ticket.qr == [JOB["status_url"]]
    assert "Antrian di depan Anda: 4" in ticket.lines and "21-11-2026 08:15" in ticket.lines
    assert sim.connections == 1


def test_qr_printed_decodes_to_status_url(sim):
    """Render the QR as the printer would (segno at the GS ( k size and level, one dot per
    module pixel) and decode it with zxing-cpp."""
    for width in (58, 80):
        printer_from_uri(sim.uri, width_mm=width).print_ticket(JOB)
    for width, ticket in zip((58, 80), sim.wait_for_tickets(2)):
        [qr] = ticket.qr_codes
        assert (qr.data, qr.ecc, qr.model) == (JOB["status_url"], "M", 2)
        symbol = segno.make_qr(qr.data, error=qr.ecc.lower(), boost_error=False)
        modules = np.array([list(row) for row in symbol.matrix], dtype=np.uint8)
        dots = np.kron(np.pad(modules, 4), np.ones((qr.module_size, qr.module_size), dtype=np.uint8))
        assert dots.shape[1] <= {58: 384, 80: 576}[width]  # fits the printable width
        image = np.where(dots == 1, 0, 255).astype(np.uint8)
        [decoded] = zxingcpp.read_barcodes(image)
        assert decoded.format == zxingcpp.BarcodeFormat.QRCode
        assert decoded.text == JOB["status_url"]


def _ask_raw(port: int, command: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(command)
        return sock.recv(16)


@pytest.mark.parametrize("state", list(STATUS_BYTES))
def test_status_bytes_and_reading(sim, state):
    sim.set_state(state)
    replies = tuple(_ask_raw(sim.port, cmd)[0] for cmd in (b"\x10\x04\x01", b"\x10\x04\x02", b"\x10\x04\x03",
                                                           b"\x10\x04\x04", b"\x1dr\x01"))
    assert replies == STATUS_BYTES[state]
    assert all(b & 0x93 == 0x12 for b in replies[:4]) and replies[4] & 0x90 == 0
    status = NetworkPrinter("127.0.0.1", sim.port).status()
    assert status.state is state and status.last_answer_at is not None
    assert status.detail == {PrinterState.OK: "", PrinterState.PAPER_LOW: "kertas hampir habis / paper near end",
                             PrinterState.PAPER_OUT: "kertas habis / paper out",
                             PrinterState.ERROR: "pemotong kertas macet / autocutter error"}[state]


def test_status_decoding_of_other_causes():
    assert decode_status(0x1A, 0x12, 0x16) == (PrinterState.PAPER_OUT, "tutup printer terbuka / cover open")
    assert decode_status(0x1A, 0x12, 0x52, 0x32)[0] is PrinterState.ERROR
    assert decode_status(0x1A, 0x12, 0x12) == (PrinterState.OFFLINE, "printer offline")
    assert decode_status(0x12, 0x72) == (PrinterState.PAPER_OUT, "kertas habis / paper out")


def test_offline_printer(sim):
    printer = NetworkPrinter("127.0.0.1", sim.port)
    assert printer.status().state is PrinterState.OK
    answered = printer.last_answer_at
    sim.set_state(PrinterState.OFFLINE)
    status = printer.status()
    assert status.state is PrinterState.OFFLINE and status.last_answer_at == answered
    with pytest.raises(DeviceUnavailable):
        printer.print_ticket(JOB)
    sim.set_state(PrinterState.OK)
    printer.print_ticket(JOB)
    assert len(sim.wait_for_tickets(1)) == 1


def test_paper_out_trap(sim):
    """Out of paper, the printer takes the bytes without a word: only the status tells."""
    sim.set_state(PrinterState.PAPER_OUT)
    printer = NetworkPrinter("127.0.0.1", sim.port)
    printer.send(render_ticket(JOB, 80))  # a plain write "succeeds"
    wait_for(lambda: sim.stream.swallowed > 0, what="bytes swallowed")
    before = len(sim.stream.received)
    with pytest.raises(DeviceUnavailable, match="kertas habis / paper out"):
        printer.print_ticket(JOB)
    assert bytes(sim.stream.received[before:]) == STATUS_QUERIES  # nothing of the ticket sent
    assert sim.tickets == []


def test_printer_dies_mid_job(sim):
    printer = NetworkPrinter("127.0.0.1", sim.port)
    sim.die_after(len(STATUS_QUERIES) + 200)  # power lost 200 bytes into the ticket
    with pytest.raises(DeviceUnavailable, match="tcp 127.0.0.1") as caught:
        printer.print_ticket(JOB)
    assert not isinstance(caught.value, ConnectionError)
    assert sim.tickets == []
    printer.print_ticket(JOB)  # back: the job prints whole
    [ticket] = sim.wait_for_tickets(1)
    assert ticket.raw == render_ticket(JOB, 80) and ticket.cut


def test_closed_port_fails_fast():
    printer = NetworkPrinter("127.0.0.1", free_port())
    started = time.monotonic()
    with pytest.raises(DeviceUnavailable, match="unreachable"):
        printer.print_ticket(JOB)
    assert printer.status().state is PrinterState.OFFLINE
    assert time.monotonic() - started < 10


def test_connect_timeout_is_short():
    """A host that never answers the SYN (here: a listener whose backlog is full)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        fillers = []
        for _ in range(4):
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex(listener.getsockname())
            fillers.append(c)
        try:
            started = time.monotonic()
            with pytest.raises(DeviceUnavailable, match="timed out"):
                NetworkPrinter(*listener.getsockname()).print_ticket(JOB)
            assert time.monotonic() - started < 10  # 3 s default, never python-escpos' 60 s
        finally:
            for c in fillers:
                c.close()


@pytest.fixture
def mute_endpoint():
    """Something on a TCP port that reads everything and never answers (a printer without
    DLE EOT support); yields (port, received bytes)."""
    listener = socket.create_server(("127.0.0.1", 0))
    received = bytearray()

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                while data := conn.recv(4096):
                    received.extend(data)

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1], received
    listener.close()


def test_no_status_reply_and_status_off(mute_endpoint):
    port, received = mute_endpoint
    status = printer_from_uri(f"tcp://127.0.0.1:{port}?status_timeout=0.3").status()
    assert status.state is PrinterState.OFFLINE and "no status reply" in status.detail
    printer = printer_from_uri(f"tcp://127.0.0.1:{port}?status=off", width_mm=58, tz="Asia/Jakarta")
    printer.print_ticket(JOB)
    expected = (FIXTURES / "ticket_58.bin").read_bytes()
    wait_for(lambda: received.endswith(expected), what="ticket bytes")


# -- serial over a socat pty pair ----------------------------------------------------------------
class SerialPrinterEnd:
    """The printer end of a pty pair: PrinterStream behind pyserial, in a thread."""

    def __init__(self, path: str) -> None:
        self.stream = PrinterStream()
        self.port = serial.Serial(path, 19200, timeout=0.05)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.port.read(1)
                if data:
                    data += self.port.read(self.port.in_waiting)
                    replies = self.stream.feed(data)
                    if replies:
                        self.port.write(replies)
            except Exception:  # the pty went away (termios.error, SerialException)
                return

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.port.close()


@pytest.fixture
def pty_pair(tmp_path):
    """socat's two linked ptys: (host side path, printer side path, socat process)."""
    if shutil.which("socat") is None:
        pytest.fail("socat is needed (Debian package socat)")
    host, device = tmp_path / "host", tmp_path / "printer"
    proc = subprocess.Popen(["socat", "-d", "-d", f"pty,raw,echo=0,link={host}", f"pty,raw,echo=0,link={device}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: host.exists() and device.exists(), what="socat ptys")
        yield str(host), str(device), proc
    finally:
        proc.terminate()
        proc.wait(5)


def test_serial_transport(pty_pair):
    host, device, _proc = pty_pair
    end = SerialPrinterEnd(device)
    try:
        printer = printer_from_uri(f"serial://{host}?baudrate=19200&status_timeout=0.5", width_mm=58, tz="Asia/Jakarta")
        assert isinstance(printer, SerialPrinter) and printer.settings["baudrate"] == 19200
        printer.print_ticket(JOB)
        [ticket] = end.stream.wait_for_tickets(1)
        assert ticket.raw == (FIXTURES / "ticket_58.bin").read_bytes()
        assert bytes(end.stream.received) == STATUS_QUERIES + ticket.raw + CONFIRM
        for state in (PrinterState.PAPER_LOW, PrinterState.PAPER_OUT, PrinterState.ERROR, PrinterState.OK):
            end.stream.set_state(state)
            assert printer.status().state is state
        end.stream.set_state(PrinterState.PAPER_OUT)
        with pytest.raises(DeviceUnavailable, match="paper out"):
            printer.print_ticket(JOB)
        end.stream.set_state(PrinterState.OFFLINE)  # powered off: no reply
        status = printer.status()
        assert status.state is PrinterState.OFFLINE and "no status reply" in status.detail
        end.stream.set_state(PrinterState.OK)
        printer.print_ticket(JOB)
        assert len(end.stream.wait_for_tickets(2)) == 2
        printer.close()
    finally:
        end.close()


def test_serial_port_gone(pty_pair):
    host, device, proc = pty_pair
    end = SerialPrinterEnd(device)
    printer = SerialPrinter(host, status_timeout=0.5)
    assert printer.status().state is PrinterState.OK
    end.close()
    proc.terminate()  # the USB-serial adapter is pulled: the pty disappears
    proc.wait(5)
    with pytest.raises(DeviceUnavailable, match="serial"):
        printer.print_ticket(JOB)
    assert printer.status().state is PrinterState.OFFLINE


# -- file, USB, URIs ------------------------------------------------------------------------------
def test_file_transport(tmp_path):
    path = tmp_path / "lp0"
    printer = printer_from_uri(f"file://{path}", width_mm=58, tz="Asia/Jakarta")
    assert isinstance(printer, FilePrinter)
    assert printer.status().state is PrinterState.OK and printer.status().detail == NO_READBACK
    printer.print_ticket(JOB)
    printer.print_ticket(JOB)
    expected = (FIXTURES / "ticket_58.bin").read_bytes()
    assert path.read_bytes() == expected * 2  # kept open: appended, no status bytes
    printer.close()


def test_file_device_missing(tmp_path):
    printer = FilePrinter("/dev/usb/lp-loket-test-missing")
    assert printer.status().state is PrinterState.OFFLINE
    with pytest.raises(DeviceUnavailable, match="not found"):
        printer.print_ticket(JOB)
    assert not os.path.exists("/dev/usb/lp-loket-test-missing")
    with pytest.raises(DeviceUnavailable, match="unreachable"):
        FilePrinter(str(tmp_path / "no-such-dir" / "lp0")).print_ticket(JOB)


def test_usb_transport_needs_pyusb_or_a_device():
    try:
        import usb.core  # noqa: F401
    except ImportError:
        with pytest.raises(DeviceError, match="pip install pyusb"):
            printer_from_uri("usb://04b8:0e15")
    else:  # no such printer on this machine
        assert printer_from_uri("usb://04b8:0e15?timeout=1").status().state is PrinterState.OFFLINE


def test_printer_uris():
    net = printer_from_uri("tcp://10.1.2.3?timeout=1.5&status_timeout=0.5", width_mm=58, tz="Asia/Makassar")
    assert (net.host, net.port, net.timeout, net.status_timeout, net.width_mm, net.tz) == \
        ("10.1.2.3", 9100, 1.5, 0.5, 58, "Asia/Makassar")
    ser = printer_from_uri("serial:///dev/ttyS0?baudrate=38400&parity=e&stopbits=2&xonxoff=yes&status=off")
    assert ser.devfile == "/dev/ttyS0" and not ser.reads_status
    assert ser.settings == {"baudrate": 38400, "bytesize": 8, "parity": "E", "stopbits": 2, "xonxoff": True, "dsrdtr": True}
    assert printer_from_uri("file:///dev/usb/lp0").devfile == "/dev/usb/lp0"
    assert isinstance(printer_from_uri("sim://"), SimulatedPrinter)
    for bad in ("lpt://1", "tcp://", "tcp://h?speed=1", "usb://zz:1", "serial://", "tcp://h?status=maybe"):
        with pytest.raises(ValueError):
            printer_from_uri(bad)
    with pytest.raises(ValueError):
        printer_from_uri("tcp://h", width_mm=76)


def test_stream_takes_any_chunking():
    data = render_ticket(JOB, 80) + b"\x10\x04\x04" + render_ticket(dict(JOB, number="B001"), 80)
    stream = PrinterStream()
    replies = b"".join(stream.feed(data[i:i + 7]) for i in range(0, len(data), 7))
    assert replies == b"\x12" and [t.large for t in stream.tickets] == [["A012"], ["B001"]]
    assert stream.errors == []


# -- kiosk agent, real server, TCP printer ---------------------------------------------------------
@pytest.fixture
def office(sim, live_server):
    """A served Loket app with the demo office, and a kiosk agent printing to ``sim`` over TCP."""
    base, token = live_server.url, live_server.tokens["kiosk"]
    agent = KioskAgent(base, token, printer_from_uri(sim.uri, width_mm=80), poll_s=0.2, status_interval_s=0.5,
                       max_backoff_s=1.0)
    agent.start()
    wait_for(lambda: agent.connected, what="agent connected")
    yield SimpleNamespace(app=live_server.app, base=base, token=token, agent=agent, server=live_server, sim=sim)
    agent.stop()


def _numbers(tickets) -> list[str]:
    return [t.large[0] for t in tickets]


@pytest.mark.parametrize("fault", [PrinterState.PAPER_OUT, PrinterState.OFFLINE])
def test_queued_jobs_print_once_after_recovery(office, fault):
    first = issue(office)
    wait_status(office, first, lambda s: s == "printed", "first ticket printed")
    office.sim.set_state(fault)
    wait_for(lambda: office.agent.health()["printer"].state == fault.value, what=f"health {fault.value}")
    second, third = issue(office), issue(office)
    for issued in (second, third):
        status = wait_status(office, issued, lambda s: s.startswith("failed"), "failure reported")
        assert ("paper out" if fault is PrinterState.PAPER_OUT else "tcp 127.0.0.1") in status
    assert len(office.sim.tickets) == 1 and office.sim.stream.swallowed == 0  # nothing sent into the void
    assert office.agent.pending_jobs() == [second["print"]["job_id"], third["print"]["job_id"]]

    office.sim.set_state(PrinterState.OK)
    for issued in (second, third):
        wait_status(office, issued, lambda s: s == "printed", "printed after recovery")
    time.sleep(1.0)  # a few more polls: nothing printed twice
    assert _numbers(office.sim.tickets) == [t["ticket"]["number"] for t in (first, second, third)]
    assert office.agent.pending_jobs() == [] and office.agent.health()["printer"].state == "ok"


def test_paper_low_prints_and_reports_health(office):
    office.sim.set_state(PrinterState.PAPER_LOW)
    wait_for(lambda: office.agent.health()["printer"].state == "paper_low", what="health paper_low")
    issued = issue(office)
    wait_status(office, issued, lambda s: s == "printed", "printed on paper low")
    health = office.agent.health()["printer"]
    assert (health.kind, health.detail) == ("printer", "kertas hampir habis / paper near end")
    assert health.last_answer_at is not None
