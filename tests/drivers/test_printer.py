"""Ticket printer: exact ESC/POS bytes of a reference ticket, parsing, faults."""
from __future__ import annotations

from pathlib import Path

import pytest

from drivers.errors import DeviceError, DeviceUnavailable
from drivers.printer import PrinterState, render_ticket
from drivers.printer.simulator import SimulatedPrinter, parse_escpos

FIXTURES = Path(__file__).parent / "fixtures"

#: The reference job (shape of server.services.printing.build_job); issued 08:15 WIB.
JOB = {
    "job_id": "t12-1", "ticket_id": 12, "kind": "ticket",
    "office": {"name": "Dinas Kependudukan dan Pencatatan Sipil Kota Demo",
               "address": "Jl. Jenderal Sudirman No. 1, Kota Demo"},
    "service": {"letter": "A", "name_id": "KTP-el (Kartu Tanda Penduduk Elektronik)",
                "name_en": "Electronic ID card (KTP-el)"},
    "number": "A012", "priority_kind": "lansia", "issued_at": "2026-11-21T01:15:00+00:00",
    "people_ahead": 4, "estimated_wait_s": 750,
    "status_url": "http://127.0.0.1:8080/t/Qm9rZXQtdGlja2V0",
    "lang": "id",
}


@pytest.mark.parametrize("width", [58, 80])
def test_reference_ticket_bytes(width):
    """Byte-exact against the recorded fixture (regenerate only after reviewing parse_escpos)."""
    expected = (FIXTURES / f"ticket_{width}.bin").read_bytes()
    assert render_ticket(JOB, width, tz="Asia/Jakarta") == expected


@pytest.mark.parametrize("width,cols", [(58, 32), (80, 48)])
def test_parse_back(width, cols):
    [ticket] = parse_escpos(render_ticket(JOB, width, tz="Asia/Jakarta"))
    lines = ticket["lines"]
    text = " ".join(lines)
    assert "Dinas Kependudukan dan Pencatatan Sipil Kota Demo" in text
    assert "Jl. Jenderal Sudirman No. 1, Kota Demo" in text
    assert "KTP-el (Kartu Tanda Penduduk Elektronik)" in text
    assert ticket["large"] == ["A012"]
    assert "A012" in lines
    assert " PRIORITAS: LANSIA " in lines
    assert "21-11-2026 08:15" in lines
    assert "Antrian di depan Anda: 4" in lines
    assert "Perkiraan tunggu: \u00b1 13 menit" in lines
    assert "Simpan tiket ini. Pantau antrian: scan QR." in text
    assert ticket["qr"] == [JOB["status_url"]]
    assert ticket["cut"] is True
    assert max(len(line) for line in lines) <= cols


def test_native_qr_command():
    """The QR goes through GS ( k (model 2, store, print), not as a raster image."""
    data = render_ticket(JOB, 80)
    url = JOB["status_url"].encode()
    store = b"\x1d(k" + (len(url) + 3).to_bytes(2, "little") + b"1P0" + url
    assert b"\x1d(k\x04\x001A2\x00" in data and store in data and b"\x1d(k\x03\x001Q0" in data
    assert b"\x1dv0" not in data and b"\x1d(L" not in data


def test_optional_parts_and_time_as_given():
    job = dict(JOB, priority_kind=None, estimated_wait_s=None, issued_at="2026-11-21T08:15:00")
    [ticket] = parse_escpos(render_ticket(job, 58))
    assert not any("PRIORITAS" in line or "Perkiraan" in line for line in ticket["lines"])
    assert "21-11-2026 08:15" in ticket["lines"]


def test_office_timezone_in_job_wins():
    job = dict(JOB, office=dict(JOB["office"], timezone="Asia/Jayapura"))
    [ticket] = parse_escpos(render_ticket(job, 80, tz="Asia/Jakarta"))
    assert "21-11-2026 10:15" in ticket["lines"]


def test_control_bytes_in_data_are_not_commands():
    job = dict(JOB, office=dict(JOB["office"], name="Kantor\x1dV\x00Jahat"))
    tickets = parse_escpos(render_ticket(job, 80))
    assert len(tickets) == 1 and "Kantor V Jahat" in tickets[0]["lines"]


def test_bad_job_and_width():
    with pytest.raises(DeviceError):
        render_ticket({"office": {}}, 80)
    with pytest.raises(ValueError):
        render_ticket(JOB, 76)


def test_parser_errors_and_multiple_tickets():
    with pytest.raises(ValueError):
        parse_escpos(b"\x1b\xfe")
    with pytest.raises(ValueError):
        parse_escpos(b"\x1d(k\x10\x001P0abc")
    two = parse_escpos(b"\x1b@one\n\x1dV\x00two\n\x1dVA\x03tail")
    assert [t["lines"] for t in two] == [["one"], ["two"], ["tail"]]
    assert [t["cut"] for t in two] == [True, True, False]


def test_simulator_prints_and_logs(tmp_path):
    printer = SimulatedPrinter(width_mm=58, tz="Asia/Jakarta", paper_dir=tmp_path)
    assert printer.status().state is PrinterState.OK
    printer.print_ticket(JOB)
    assert bytes(printer.raw) == (FIXTURES / "ticket_58.bin").read_bytes()
    assert len(printer.printed) == 1 and printer.printed[0]["qr"] == [JOB["status_url"]]
    paper = (tmp_path / "t12-1.txt").read_text(encoding="utf-8")
    assert "A012" in paper and JOB["status_url"] in paper
    assert printer.status().last_answer_at is not None


@pytest.mark.parametrize("state,reason", [
    (PrinterState.PAPER_OUT, "kertas habis / paper out"),
    (PrinterState.OFFLINE, "printer offline"),
    (PrinterState.ERROR, "printer bermasalah / printer error"),
])
def test_fault_states_raise(state, reason):
    printer = SimulatedPrinter()
    printer.set_state(state)
    with pytest.raises(DeviceUnavailable, match=reason):
        printer.print_ticket(JOB)
    assert printer.printed == [] and printer.raw == b""
    status = printer.status()
    assert status.state is state and not status.printable and status.detail == reason
    printer.set_state(PrinterState.OK)
    printer.print_ticket(JOB)
    assert len(printer.printed) == 1


def test_paper_low_still_prints():
    printer = SimulatedPrinter()
    printer.set_state(PrinterState.PAPER_LOW)
    printer.print_ticket(JOB)
    assert printer.status().printable and len(printer.printed) == 1


def test_simulator_rejects_garbage():
    with pytest.raises(DeviceError):
        SimulatedPrinter().send(b"\x1b\xfe")
