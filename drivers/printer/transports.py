"""Real ticket printers on python-escpos: network, serial, USB and file, and :func:`printer_from_uri`.

Each transport only opens its ``escpos.printer`` object (and, when it can read, reads one
reply); status checks and error translation live in :class:`.transport.EscposTransport`.

=======================================  ==============================================
URI                                      transport
=======================================  ==============================================
``tcp://10.0.0.5:9100``                  :class:`NetworkPrinter` (raw port; reads status)
``serial:///dev/ttyUSB0?baudrate=19200``  :class:`SerialPrinter` (reads status)
``usb://04b8:0e15``                      :class:`UsbPrinter` (vendor:product; needs pyusb)
``file:///dev/usb/lp0``                  :class:`FilePrinter` (kernel usblp / parallel)
``sim://``                               the in-process :class:`.simulator.SimulatedPrinter`
=======================================  ==============================================

Query options: ``timeout`` (seconds: connect and write), ``status_timeout`` (seconds for one
status reply), ``status=off`` (never query: for printers that do not answer ``DLE EOT``);
serial: ``baudrate``, ``bytesize``, ``parity`` (N/E/O), ``stopbits``, ``xonxoff``, ``dsrdtr``;
USB: ``in_ep``, ``out_ep``; sim: ``paper_dir``. See drivers/printer/README.md.
"""
from __future__ import annotations

import os
import socket
from typing import Any, Callable
from urllib.parse import parse_qsl, unquote, urlsplit

from escpos.printer import File, Network, Serial

from ..errors import DeviceError, DeviceUnavailable
from .base import PrinterState, PrinterStatus, TicketPrinter
from .transport import EscposTransport

#: python-escpos waits 60 s by default on a network printer; a kiosk cannot.
DEFAULT_TIMEOUT_S = 3.0
PYUSB_HINT = ("USB printers need pyusb and libusb: `pip install pyusb` and `apt install libusb-1.0-0` "
              "(or print through the kernel's usblp driver: --printer file:///dev/usb/lp0)")


class NetworkPrinter(EscposTransport):
    """A printer on its raw TCP port (9100); one connection per print or status query.

    ``timeout``: seconds for the connect and for each write.
    """

    keep_open = False
    can_read = True

    def __init__(self, host: str, port: int = 9100, width_mm: int = 80, tz: str | None = None, *,
                 timeout: float = DEFAULT_TIMEOUT_S, **options) -> None:
        super().__init__(width_mm, tz, **options)
        self.host, self.port, self.timeout = host, port, timeout

    @property
    def where(self) -> str:
        return f"tcp {self.host}:{self.port}"

    def _open(self):
        printer = Network(self.host, self.port, timeout=self.timeout)
        printer.open()
        # Nagle would hold the status query after the ticket until the printer's delayed ACK
        # (~40 ms on Linux): small writes go out at once.
        printer.device.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return printer

    def _read_reply(self, printer, timeout: float) -> bytes:
        sock = printer.device
        sock.settimeout(timeout)
        try:
            data = sock.recv(16)
        except TimeoutError:
            return b""
        finally:
            sock.settimeout(self.timeout)
        if not data:
            raise DeviceUnavailable(f"printer menutup koneksi / printer closed the connection ({self.where})")
        return data


class SerialPrinter(EscposTransport):
    """A printer on a serial port (RS-232, USB-serial adapter), kept open between jobs.

    ``timeout``: seconds a write may block (XON/XOFF flow control); the other options are
    pyserial's.
    """

    can_read = True

    def __init__(self, devfile: str, width_mm: int = 80, tz: str | None = None, *, baudrate: int = 9600,
                 bytesize: int = 8, parity: str = "N", stopbits: float = 1, xonxoff: bool = False,
                 dsrdtr: bool = True, timeout: float = DEFAULT_TIMEOUT_S, **options) -> None:
        super().__init__(width_mm, tz, **options)
        self.devfile, self.timeout = devfile, timeout
        self.settings = {"baudrate": baudrate, "bytesize": bytesize, "parity": parity.upper()[:1],
                         "stopbits": stopbits, "xonxoff": xonxoff, "dsrdtr": dsrdtr}

    @property
    def where(self) -> str:
        return f"serial {self.devfile}"

    def _open(self):
        printer = Serial(self.devfile, timeout=self.status_timeout, **self.settings)
        printer.open()
        printer.device.write_timeout = self.timeout
        return printer

    def _discard_input(self, printer) -> None:
        printer.device.reset_input_buffer()

    def _read_reply(self, printer, timeout: float) -> bytes:
        port = printer.device
        port.timeout = timeout
        return port.read(1)


class UsbPrinter(EscposTransport):
    """A printer on USB by vendor and product id, through pyusb (the kernel's usblp driver is
    detached). Write-only here: the state comes from the device opening and writes working.

    ``timeout``: seconds a write may take (a printer out of paper may stall it).
    """

    def __init__(self, vendor_id: int, product_id: int, width_mm: int = 80, tz: str | None = None, *,
                 in_ep: int = 0x82, out_ep: int = 0x01, timeout: float = 5.0, **options) -> None:
        try:
            import usb.core  # noqa: F401
        except ImportError as exc:
            raise DeviceError(PYUSB_HINT) from exc
        super().__init__(width_mm, tz, **options)
        self.vendor_id, self.product_id = vendor_id, product_id
        self.in_ep, self.out_ep, self.timeout = in_ep, out_ep, timeout

    @property
    def where(self) -> str:
        return f"usb {self.vendor_id:04x}:{self.product_id:04x}"

    def _open(self):
        from escpos.printer import Usb

        printer = Usb(self.vendor_id, self.product_id, timeout=int(self.timeout * 1000), in_ep=self.in_ep, out_ep=self.out_ep)
        printer.open()
        return printer


class FilePrinter(EscposTransport):
    """A printer as a device file (``/dev/usb/lp0`` of the usblp driver, ``/dev/lp0``),
    kept open between jobs. Write-only: OK while the device file exists and opens.

    A missing path under /dev is never created (that would print into a plain file).
    """

    def __init__(self, devfile: str, width_mm: int = 80, tz: str | None = None, **options) -> None:
        super().__init__(width_mm, tz, **options)
        self.devfile = devfile

    @property
    def where(self) -> str:
        return f"file {self.devfile}"

    def _missing(self) -> bool:
        return self.devfile.startswith("/dev/") and not os.path.exists(self.devfile)

    def _open(self):
        if self._missing():
            raise DeviceUnavailable(f"printer tidak ditemukan / not found ({self.where})")
        printer = File(self.devfile)
        printer.open()
        return printer

    def status(self) -> PrinterStatus:
        """OFFLINE when the device file is gone (unplugged), else as the base class."""
        if self._missing():
            self.close()
            return PrinterStatus(PrinterState.OFFLINE, f"printer tidak ditemukan / not found ({self.where})",
                                 self.last_answer_at)
        return super().status()


_BOOL = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}
_COMMON: dict[str, Callable[[str], Any]] = {"timeout": float, "status_timeout": float, "status": lambda v: _BOOL[v.lower()]}
_OPTIONS: dict[str, dict[str, Callable[[str], Any]]] = {
    "tcp": _COMMON,
    "serial": {**_COMMON, "baudrate": int, "bytesize": int, "parity": str, "stopbits": float,
               "xonxoff": lambda v: _BOOL[v.lower()], "dsrdtr": lambda v: _BOOL[v.lower()]},
    "usb": {"timeout": float, "in_ep": lambda v: int(v, 0), "out_ep": lambda v: int(v, 0)},
    "file": {},
    "sim": {"paper_dir": str},
}


def _options(scheme: str, query: str) -> dict:
    out: dict[str, Any] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key not in _OPTIONS[scheme]:
            raise ValueError(f"unknown option {key!r} for {scheme}:// (known: {', '.join(_OPTIONS[scheme]) or 'none'})")
        try:
            out["reads_status" if key == "status" else key] = _OPTIONS[scheme][key](value)
        except (KeyError, ValueError):
            raise ValueError(f"bad value {value!r} for option {key!r}") from None
    if "stopbits" in out and out["stopbits"] in (1.0, 2.0):
        out["stopbits"] = int(out["stopbits"])
    return out


def printer_from_uri(uri: str, width_mm: int = 80, tz: str | None = None) -> TicketPrinter:
    """The printer a ``--printer`` URI names (see the module docstring).

    Raises ValueError on a malformed URI or option; DeviceError when the transport cannot
    work on this machine (USB without pyusb). Nothing is opened until the first operation.
    """
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme not in _OPTIONS:
        raise ValueError(f"unknown printer URI {uri!r}: use tcp://, serial://, usb://, file:// or sim://")
    options = _options(scheme, parts.query)
    if scheme == "tcp":
        if not parts.hostname:
            raise ValueError(f"no host in {uri!r} (tcp://HOST[:9100])")
        return NetworkPrinter(parts.hostname, parts.port or 9100, width_mm, tz, **options)
    if scheme == "usb":
        try:
            vendor, product = (int(x, 16) for x in parts.netloc.split(":"))
        except ValueError:
            raise ValueError(f"bad USB id in {uri!r} (usb://VVVV:PPPP, hexadecimal)") from None
        return UsbPrinter(vendor, product, width_mm, tz, **options)
    if scheme == "sim":
        from .simulator import SimulatedPrinter

        return SimulatedPrinter(width_mm, tz, **options)
    path = unquote(parts.netloc + parts.path)
    if not path:
        raise ValueError(f"no device path in {uri!r} ({scheme}:///dev/...)")
    if scheme == "serial":
        return SerialPrinter(path, width_mm, tz, **options)
    return FilePrinter(path, width_mm, tz, **options)
