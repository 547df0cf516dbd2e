"""Resi (application receipt) layout: exact ESC/POS bytes, parsing back, privacy, dispatch.

Source: issue 4, "The resi". Job shape: server.services.applications.resi_print.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from drivers.errors import DeviceError
from drivers.printer import render_resi, render_ticket
from drivers.printer.simulator import SimulatedPrinter, parse_escpos

from .test_printer import JOB as TICKET_JOB

FIXTURES = Path(__file__).parent / "fixtures"

#: The reference resi job (shape of build_resi_job); registered 08:15 WIB.
JOB = {
    "job_id": "r7-1", "kind": "resi", "ticket_id": None, "application_id": 7, "lang": "id",
    "office": {"code": "DEMO", "name": "Dinas Kependudukan dan Pencatatan Sipil Kota Demo",
               "address": "Jl. Jenderal Sudirman No. 1, Kota Demo", "timezone": "Asia/Jakarta"},
    "service": {"code": "ktp-el", "letter": "A", "name_id": "KTP-el (Kartu Tanda Penduduk Elektronik)",
                "name_en": "Electronic ID card (KTP-el)"},
    "resi_number": "DEMO-A-20261123-0001", "name": "B*** S******",
    "registered_at": "2026-11-23T01:15:00+00:00", "date": "2026-11-23", "due_date": "2026-12-07",
    "qr_payload": "LKT1.Nw.REVNTy1BLTIwMjYxMTIzLTAwMDE.c2ln",
    "status_url": "http://127.0.0.1:8080/r/LKT1.Nw.REVNTy1BLTIwMjYxMTIzLTAwMDE.c2ln",
    "pickup_instructions": [
        "Ambil dokumen di loket pengambilan atau Drive-Thru dengan menunjukkan resi ini.",
        "Pantau status berkas dengan memindai kode QR.",
        "Pengambilan oleh orang lain wajib membawa surat kuasa (F-1.07) dan KTP-el pemohon serta penerima kuasa.",
    ],
}


def test_reference_resi_bytes():
    """Byte-exact against the recorded fixture (regenerate only after reviewing the slip)."""
    assert render_resi(JOB, 80) == (FIXTURES / "resi_80.bin").read_bytes()


def test_deterministic():
    for width in (58, 80):
        assert render_resi(JOB, width, tz="Asia/Jakarta") == render_resi(dict(JOB), width, tz="Asia/Jakarta")


@pytest.mark.parametrize("width,cols,size", [(58, 32, 1), (80, 48, 2)])
def test_parse_back(width, cols, size):
    [resi] = parse_escpos(render_resi(JOB, width))
    lines = resi["lines"]
    text = " ".join(lines)
    assert "Dinas Kependudukan dan Pencatatan Sipil Kota Demo" in text
    assert "Jl. Jenderal Sudirman No. 1, Kota Demo" in text
    assert "TANDA TERIMA BERKAS" in lines
    assert "KTP-el (Kartu Tanda Penduduk Elektronik)" in text
    assert "DEMO-A-20261123-0001" in lines
    assert resi["large"] == (["DEMO-A-20261123-0001"] if size > 1 else [])
    assert "Nama: B*** S******" in lines
    assert "Tanggal daftar: 23-11-2026 08:15" in lines
    assert "Perkiraan selesai: 07-12-2026" in lines
    assert "Simpan resi ini sampai dokumen diambil." in text
    assert resi["qr"] == [JOB["status_url"]]
    assert resi["cut"] is True
    assert max(len(line) for line in lines) <= cols


@pytest.mark.parametrize("width,cols", [(58, 32), (80, 48)])
def test_instructions_wrapped_as_bullets(width, cols):
    lines = parse_escpos(render_resi(JOB, width))[0]["lines"]
    start = next(i for i, line in enumerate(lines) if line.startswith("- Ambil"))
    block = []
    for line in lines[start:]:
        if not line:
            break
        block.append(line)
    assert sum(line.startswith("- ") for line in block) == len(JOB["pickup_instructions"])
    assert all(line.startswith(("- ", "  ")) and len(line) <= cols for line in block)
    rejoined = " ".join(line[2:] for line in block)
    assert rejoined == " ".join(JOB["pickup_instructions"])
    assert "Drive-Thru" in rejoined  # not broken at the hyphen


def test_native_qr_of_status_url():
    data = render_resi(JOB, 80)
    url = JOB["status_url"].encode()
    store = b"\x1d(k" + (len(url) + 3).to_bytes(2, "little") + b"1P0" + url
    assert data.count(store) == 1 and data.count(b"\x1d(k\x03\x001Q0") == 1
    assert b"\x1dv0" not in data and b"\x1d(L" not in data
    assert data.endswith(b"\x1dV\x00")


def test_zone_argument_and_time_as_given():
    job = dict(JOB, office=dict(JOB["office"], timezone=None))
    assert "Tanggal daftar: 23-11-2026 10:15" in parse_escpos(render_resi(job, 80, tz="Asia/Jayapura"))[0]["lines"]
    assert "Tanggal daftar: 23-11-2026 01:15" in parse_escpos(render_resi(job, 80))[0]["lines"]
    job = dict(JOB, office=dict(JOB["office"], timezone="Asia/Makassar"))
    assert "Tanggal daftar: 23-11-2026 09:15" in parse_escpos(render_resi(job, 80, tz="Asia/Jakarta"))[0]["lines"]


def test_control_bytes_in_data_are_not_commands():
    job = dict(JOB, name="B\x1dV\x00***", office=dict(JOB["office"], name="Kantor\x1b@\x1dV\x00Jahat"),
               pickup_instructions=["Ambil\x1dV\x01 di loket."])
    resis = parse_escpos(render_resi(job, 80))
    assert len(resis) == 1
    lines = resis[0]["lines"]
    assert "Kantor @ V Jahat" in lines and "Nama: B V ***" in lines and "- Ambil V  di loket." in lines


def test_nik_and_phone_never_printed():
    job = dict(JOB, nik="3171012345678901", phone="081234567890", email="budi@example.org",
               nama_lengkap="Budi Santoso", applicant_name="Budi Santoso")
    data = render_resi(job, 80)
    assert data == render_resi(JOB, 80)
    for secret in (b"3171012345678901", b"081234567890", b"budi@example.org", b"Budi Santoso"):
        assert secret not in data


@pytest.mark.parametrize("change", [
    {"resi_number": None}, {"resi_number": ""}, {"registered_at": "kemarin"}, {"due_date": "2026-13-40"},
    {"due_date": None}, {"status_url": ""}, {"pickup_instructions": "satu baris"},
    {"office": {"name": "X", "timezone": "Mars/Base"}},
])
def test_malformed_job_raises_device_error(change):
    with pytest.raises(DeviceError):
        render_resi(dict(JOB, **change), 80)


@pytest.mark.parametrize("missing", ["resi_number", "name", "registered_at", "due_date", "status_url"])
def test_missing_field_raises_device_error(missing):
    job = {k: v for k, v in JOB.items() if k != missing}
    with pytest.raises(DeviceError):
        render_resi(job, 58)


def test_unsupported_width():
    with pytest.raises(ValueError):
        render_resi(JOB, 76)


def test_printer_dispatches_on_kind(tmp_path):
    printer = SimulatedPrinter(width_mm=80, paper_dir=tmp_path)
    printer.print_ticket(JOB)
    printer.print_ticket(TICKET_JOB)
    printer.print_ticket({k: v for k, v in TICKET_JOB.items() if k != "kind"})
    assert bytes(printer.raw) == (FIXTURES / "resi_80.bin").read_bytes() + 2 * render_ticket(TICKET_JOB, 80)
    assert [p["qr"] for p in printer.printed] == [[JOB["status_url"]]] + 2 * [[TICKET_JOB["status_url"]]]
    with pytest.raises(DeviceError, match="unknown print job kind"):
        printer.render(dict(JOB, kind="sertifikat"))
    assert len(printer.printed) == 3


def test_simulator_writes_resi_text(tmp_path):
    printer = SimulatedPrinter(width_mm=58, tz="Asia/Jakarta", paper_dir=tmp_path)
    printer.print_ticket(dict(JOB, nik="3171012345678901", phone="081234567890"))
    paper = (tmp_path / "r7-1.txt").read_text(encoding="utf-8")
    assert "TANDA TERIMA BERKAS" in paper and "DEMO-A-20261123-0001" in paper
    assert "Nama: B*** S******" in paper and "Tanggal daftar: 23-11-2026 08:15" in paper
    assert f"[QR] {JOB['status_url']}" in paper
    assert "3171012345678901" not in paper and "081234567890" not in paper
