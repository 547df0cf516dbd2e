"""A slip cut short: the status decision after a ticket (pure), the simulator's roll that runs
out after N print bytes, and the network transport raising PrintInterrupted for a paper end
or a power loss mid-ticket (real TCP against the simulator endpoint)."""
from __future__ import annotations

import pytest

from drivers.errors import DeviceUnavailable
from drivers.printer import PrinterState, PrintInterrupted, render_resi, render_ticket
from drivers.printer.layout import REPRINT_LABEL
from drivers.printer.simulator import parse_escpos
from drivers.printer.status import encode_status, printed_whole
from drivers.printer.stream import PrinterStream
from drivers.printer.tcp_simulator import TcpPrinterSimulator
from drivers.printer.transports import NetworkPrinter
from tests.drivers.test_printer import JOB
from tests.drivers.test_printer_transports import CONFIRM, STATUS_QUERIES
from tests.drivers.test_resi_layout import JOB as RESI_JOB

QR_AT = render_ticket(JOB, 80).index(b"\x1d(k")  # the first byte of the QR commands (80 mm)


def replies(state: PrinterState) -> tuple[int, int, int, int]:
    """What a printer in ``state`` answers to DLE EOT 1, 4, 2 and 3."""
    return tuple(encode_status(state, n) for n in (1, 4, 2, 3))


# -- the decision -------------------------------------------------------------------------------
@pytest.mark.parametrize("state,whole,reason", [
    (PrinterState.OK, True, ""),
    (PrinterState.PAPER_LOW, True, "kertas hampir habis / paper near end"),  # near end still prints
    (PrinterState.PAPER_OUT, False, "kertas habis / paper out"),
    (PrinterState.ERROR, False, "pemotong kertas macet / autocutter error"),  # offline: uncut at best
])
def test_printed_whole_from_the_status_after(state, whole, reason):
    online, paper, cause, error = replies(state)
    assert printed_whole(online, paper, cause, error) == (whole, state, reason)


def test_printed_whole_edge_bytes():
    assert printed_whole(0x12, 0x72)[0] is False  # a clone that stays online at paper end
    assert printed_whole(0x1A, 0x12, 0x16) == (False, PrinterState.PAPER_OUT, "tutup printer terbuka / cover open")
    assert printed_whole(0x1A, 0x12, 0x12) == (False, PrinterState.OFFLINE, "printer offline")
    assert printed_whole(0x12, 0x1E) == (True, PrinterState.PAPER_LOW, "kertas hampir habis / paper near end")


# -- the simulator's roll -----------------------------------------------------------------------
def test_roll_runs_out_mid_ticket():
    data = render_ticket(JOB, 80)
    stream = PrinterStream()
    stream.paper_out_after(QR_AT)
    assert stream.feed(data) == b""
    [partial] = stream.tickets
    assert not partial.cut and partial.qr == [] and partial.large == ["A012"] and partial.raw == data[:QR_AT]
    assert stream.swallowed == len(data) - QR_AT and stream.state is PrinterState.PAPER_OUT
    assert stream.feed(b"\x10\x04\x01\x10\x04\x04") == bytes((0x1A, 0x7E))  # paper end from now on
    stream.feed(data)
    assert len(stream.tickets) == 1  # nothing prints without paper
    stream.set_state(PrinterState.OK)  # a new roll
    stream.feed(data)
    assert [t.cut for t in stream.tickets] == [False, True] and stream.tickets[1].raw == data


def test_roll_ends_inside_a_text_run_and_exactly_at_a_cut():
    data = render_ticket(JOB, 80)
    stream = PrinterStream()
    stream.paper_out_after(data.index(b"A012") + 2)  # "A0" fits
    stream.feed(data)
    assert stream.tickets[0].lines[-1] == "A0" and not stream.tickets[0].cut
    exact = PrinterStream()
    exact.paper_out_after(len(data))  # the ticket fits exactly: printed whole, then paper end
    exact.feed(data)
    assert [t.cut for t in exact.tickets] == [True] and exact.state is PrinterState.PAPER_OUT
    with pytest.raises(ValueError):
        exact.paper_out_after(-1)


def test_on_cut_sees_each_complete_ticket_before_the_status_reply():
    seen = []
    stream = PrinterStream(on_cut=lambda t: seen.append((t.large, bytes(stream.received))))
    data = render_ticket(JOB, 80)
    assert stream.feed(data + CONFIRM) == bytes((0x12, 0x12))
    assert seen == [(["A012"], data + CONFIRM)]


# -- the network transport ----------------------------------------------------------------------
@pytest.fixture
def sim():
    with TcpPrinterSimulator() as endpoint:
        yield endpoint


def test_paper_out_mid_ticket_raises_print_interrupted(sim):
    printer = NetworkPrinter("127.0.0.1", sim.port)
    sim.paper_out_after(QR_AT)
    with pytest.raises(PrintInterrupted, match="ticket not printed whole: kertas habis / paper out") as caught:
        printer.print_ticket(JOB)
    assert isinstance(caught.value, DeviceUnavailable)  # the agent keeps the job and retries
    [partial] = sim.tickets
    assert not partial.cut and partial.qr == []
    assert bytes(sim.stream.received).endswith(CONFIRM)  # the decision came from the status after
    assert printer.status().state is PrinterState.PAPER_OUT
    with pytest.raises(DeviceUnavailable) as refused:  # refused before sending: not an interruption
        printer.print_ticket(JOB)
    assert not isinstance(refused.value, PrintInterrupted)
    sim.set_state(PrinterState.OK)
    printer.print_ticket(dict(JOB, reprint=True))
    slip = sim.wait_for_tickets(2)[1]
    assert slip.cut and slip.qr == [JOB["status_url"]] and REPRINT_LABEL in [x.strip() for x in slip.lines]


def test_power_loss_mid_ticket_raises_print_interrupted(sim):
    printer = NetworkPrinter("127.0.0.1", sim.port)
    sim.die_after(len(STATUS_QUERIES) + QR_AT)
    with pytest.raises(PrintInterrupted, match="tcp 127.0.0.1"):
        printer.print_ticket(JOB)
    assert sim.tickets == []  # the printer lost what it had (see drivers/printer/README.md)


def test_a_connection_refused_is_not_an_interruption():
    from tests.live import free_port

    with pytest.raises(DeviceUnavailable) as caught:
        NetworkPrinter("127.0.0.1", free_port()).print_ticket(JOB)
    assert not isinstance(caught.value, PrintInterrupted)


def test_reprint_line_on_ticket_and_resi():
    for data in (render_ticket(dict(JOB, reprint=True), 58), render_resi(dict(RESI_JOB, reprint=True), 80)):
        [slip] = parse_escpos(data)
        assert REPRINT_LABEL in [x.strip() for x in slip["lines"]] and slip["cut"]
    for data in (render_ticket(JOB, 58), render_resi(RESI_JOB, 80), render_ticket(dict(JOB, reprint="yes"), 58)):
        assert REPRINT_LABEL not in " ".join(parse_escpos(data)[0]["lines"])
