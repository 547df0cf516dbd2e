"""The kiosk's own booking QR scanner and camera (issue 6): a real socat pty pair as the
serial scanner and real video frames as the camera, through the kiosk agent to a live
server, to this kiosk's page only, ending in a check-in; the server's reading of scanned
codes (SQLite and PostgreSQL); the command line; the kiosk page in Chromium."""
from __future__ import annotations

import io
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import requests
import segno
import serial
import socketio
from PIL import Image
from sqlalchemy import select

from drivers.printer.simulator import SimulatedPrinter
from drivers.qr.decoders import decoder_by_name
from drivers.qr.simulator import code_in_view, write_video
from drivers.qr.sources import FrameSource, ScannerReader
from drivers.serialdev.simulator import pty_pair
from kiosk.agent import KioskAgent, build_agent, parse_args, start_demo_agent
from server.models import AuditEntry, Booking, Device, Office, Service
from server.services.accounts import create_device
from server.services.actors import SYSTEM
from server.services.booking import bookings, kiosk_scans
from server.services.booking.settings import BookingRules
from server.services.errors import ValidationError
from server.services.resi import ResiSigner, derive_key
from tests.live import wait_for
from tests.pages.conftest import page_factory  # noqa: F401  (fixture)
from tests.server.test_api import app  # noqa: F401  (fixture)

NIK = "1471011205900001"
CODE = "K7QM-2XDA"


def booking_signer(app_) -> ResiSigner:
    return bookings.booking_signer(app_.config["SECRET_KEY"])


def resi_payload(app_) -> str:
    return ResiSigner(derive_key(app_.config["SECRET_KEY"])).make_payload(7, "DEMO", "DEMO-A-20261121-0042")


def book_now(app_, db, office_code: str, code: str = CODE, nik: str = NIK) -> str:
    """A booking of service "kk" whose session starts now (check-in open); its QR payload."""
    now = datetime.now(timezone.utc)
    with db.session() as s:
        office = s.scalars(select(Office).where(Office.code == office_code)).one()
        local = now.astimezone(BookingRules(office).zone)
        start = local.replace(second=0, microsecond=0)
        end = min(start + timedelta(hours=1), start.replace(hour=23, minute=59))
        office.settings = {**(office.settings or {}), "booking": {"sessions": [
            {"code": "1", "start": f"{start:%H:%M}", "end": f"{end:%H:%M}"}]}}
        kk = s.scalars(select(Service).where(Service.office_id == office.id, Service.code == "kk")).one()
        booking = Booking(office_id=office.id, service_id=kk.id, day=local.date(), session_code="1", code=code,
                          nik=nik, name="Budi Santoso", created_at=now)
        s.add(booking)
        s.flush()
        return booking_signer(app_).make_payload(booking.id, office.code, code)


def read_printed_qr(payload: str) -> str:
    """The payload as the project's decoder reads it from a rendered image of the QR."""
    png = io.BytesIO()
    segno.make(payload, error="m").save(png, kind="png", scale=6, border=4)
    frame = np.array(Image.open(io.BytesIO(png.getvalue())).convert("L"))
    [decoded] = decoder_by_name().decode(frame)
    return decoded.text


class Screen:
    """A page's socket (auth {"token"}, like kiosk.js / display.js) recording every message."""

    def __init__(self, base: str, token: str) -> None:
        self.events: list[tuple[str, object]] = []
        self.lock = threading.Lock()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("*", lambda name, *args: self._record(name, args[0] if args else None))
        self.sio.connect(base, auth={"token": token}, transports=["websocket"], wait_timeout=5)

    def _record(self, name: str, data: object) -> None:
        with self.lock:
            self.events.append((name, data))

    def scans(self) -> list[dict]:
        with self.lock:
            return [data for name, data in self.events if name == "booking_scan"]

    def close(self) -> None:
        self.sio.disconnect()


@pytest.fixture
def site(live_server, tmp_path):
    """The live server, a booking open for check-in now, the kiosk's page, another kiosk's
    page and a TV page (both must hear nothing of the scans)."""
    db = live_server.db
    with db.session() as s:
        office = s.scalars(select(Office).where(Office.code == live_server.office)).one()
        _device, other_token = create_device(s, office.id, "kiosk", "Kiosk 2", actor=SYSTEM)
    payload = book_now(live_server.app, db, live_server.office)
    screens = [Screen(live_server.url, t) for t in (live_server.tokens["kiosk"], other_token,
                                                     live_server.tokens["display"])]
    printer = SimulatedPrinter(width_mm=80)
    yield SimpleNamespace(server=live_server, db=db, app=live_server.app, base=live_server.url,
                          token=live_server.tokens["kiosk"], payload=payload, page=screens[0], others=screens[1:],
                          printer=printer, tmp=tmp_path)
    live_server.stop()  # the server drops the pages first: a client closing by itself waits ~3 s per socket
    for screen in screens:
        screen.close()


def kiosk_health(site) -> dict:
    with site.db.session() as s:
        device = s.scalars(select(Device).where(Device.kind == "kiosk").order_by(Device.id)).first()
        return dict(device.health or {})


def scan_audits(site) -> list[dict]:
    with site.db.session() as s:
        return [e.data for e in s.scalars(select(AuditEntry).where(AuditEntry.action == "device.scan")
                                          .order_by(AuditEntry.id))]


def check_in(site, ref: str, nik: str = NIK[-6:]) -> requests.Response:
    return requests.post(f"{site.base}/api/v1/offices/{site.server.office}/checkin",
                         json={"ref": ref, "nik_suffix": nik}, headers={"Authorization": f"Bearer {site.token}"},
                         timeout=10)


def test_serial_scanner_to_this_kiosk_page_and_check_in(site):
    scanned = read_printed_qr(site.payload)
    assert scanned == site.payload
    forged = scanned[:-3] + ("AAA" if not scanned.endswith("AAA") else "BBB")
    pair = pty_pair(site.tmp)
    agent = KioskAgent(site.base, site.token, site.printer, scanner=ScannerReader(pair.b), hold_s=3.0,
                       health_interval_s=0.5)
    agent.start()
    try:
        wait_for(lambda: kiosk_health(site).get("scanner", {}).get("state") == "ok", what="scanner ok on the server")
        with serial.Serial(pair.a, 9600) as scanner:
            # The same QR twice (presentation mode), then a resi, a forged and a truncated payload.
            for line in (scanned, scanned, resi_payload(site.app), forged, scanned[:20]):
                scanner.write(line.encode() + b"\r\n")
                scanner.flush()
            wait_for(lambda: len(site.page.scans()) >= 4, what="four scans on the kiosk page")
        ok, resi, bad, short = site.page.scans()
        assert ok["ok"] is True and ok["code"] == CODE and ok["ref"] == site.payload and ok["source"] == "scanner"
        assert NIK not in str(ok) and "Budi" not in str(ok)
        assert [(s["ok"], s["error"], s["source"]) for s in (resi, bad, short)] == [
            (False, "resi_qr", "scanner"), (False, "booking_forged", "scanner"), (False, "booking_damaged", "scanner")]
        assert "ref" not in bad and "code" not in bad
        assert [r["code"] for r in agent.scanning.reported] == [scanned, resi_payload(site.app), forged, scanned[:20]]
        wait_for(lambda: len(agent.scanning.answers) == 4, what="four scans acknowledged")
        assert all(answer["ok"] for _scan, answer in agent.scanning.answers)
        # No other screen heard of it: not the other kiosk, not the TV.
        for screen in site.others:
            assert screen.scans() == [] and site.payload not in str(screen.events)
        audits = scan_audits(site)
        assert [a["result"] for a in audits] == ["booking", "resi_qr", "booking_forged", "booking_damaged"]
        assert site.payload not in str(audits) and audits[0]["booking_id"] is not None

        # The page submits the scanned payload with the NIK digits: the booking is checked in and printed here.
        assert check_in(site, ok["ref"], nik="999999").json()["error"] == "nik_mismatch"
        r = check_in(site, ok["ref"])
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["booking"]["status"] == "checked_in" and body["ticket"]["number"] == "B001"
        wait_for(lambda: site.printer.printed, what="the ticket printed by this kiosk")
        assert "B001" in site.printer.printed[0]["large"]
    finally:
        agent.stop()
        pair.stop()


def test_camera_video_frames_to_this_kiosk_page(site):
    clip = site.tmp / "kiosk-camera.avi"
    write_video(clip, code_in_view(site.payload, 6))
    agent = KioskAgent(site.base, site.token, site.printer, camera=FrameSource(str(clip)), fps=0,
                       health_interval_s=0.5)
    agent.start()
    try:
        wait_for(lambda: site.page.scans(), what="the booking scan on the kiosk page")
        wait_for(lambda: kiosk_health(site).get("camera", {}).get("detail") == "video selesai / end of video",
                 what="end of video in the kiosk's health")
        assert agent.scanning.frames_decoded == 12
        assert [r["code"] for r in agent.scanning.reported] == [site.payload]  # six frames, one scan
        [scan] = site.page.scans()
        assert scan["ok"] and scan["code"] == CODE and scan["source"] == "camera"
        assert check_in(site, scan["ref"]).status_code == 201
    finally:
        agent.stop()


def test_demo_kiosk_scanner_is_a_named_pipe(site):
    agent = start_demo_agent(site.app, site.base, site.token, scanner=True)
    try:
        fifo = Path(site.app.config["DATA_DIR"]) / "kiosk-scanner"
        wait_for(lambda: kiosk_health(site).get("scanner", {}).get("state") == "ok", what="demo scanner ok")
        for line in (site.payload, "http://127.0.0.1:8080/t/SomeTicket"):  # two writers, one after the other
            with open(fifo, "w") as wedge:
                wedge.write(line + "\n")
            wait_for(lambda n=len(site.page.scans()): len(site.page.scans()) > n, what="scan on the kiosk page")
        assert [(s["ok"], s.get("code") or s.get("error")) for s in site.page.scans()] == [
            (True, CODE), (False, "ticket_qr")]
        assert kiosk_health(site)["scanner"]["state"] == "ok"  # no end of stream between the writers
    finally:
        agent.stop()


def test_server_reads_scanned_codes(app):  # noqa: F811  (SQLite and PostgreSQL)
    db = app.extensions["loket"].db
    payload = book_now(app, db, "DEMO")
    signer = booking_signer(app)
    with db.session() as s:
        office = s.scalars(select(Office).where(Office.code == "DEMO")).one()
        booking_id = s.scalars(select(Booking.id).where(Booking.code == CODE)).one()

        def read(code):
            result = kiosk_scans.classify(s, office, code, signer)
            return result if result["ok"] else result["error"]

        assert read(f"  {payload}\n") == {"ok": True, "ref": payload, "code": CODE, "booking_id": booking_id}
        assert read(f"https://loket.example/b/{payload}")["code"] == CODE
        assert read("k7qm 2xda")["code"] == CODE  # a typed code in a barcode
        assert read(resi_payload(app)) == "resi_qr"
        assert read("https://loket.example/r/" + resi_payload(app)) == "resi_qr"
        assert read("http://127.0.0.1:8080/t/DriveThruA001") == "ticket_qr"
        assert read(payload[:-2] + ("ZZ" if not payload.endswith("ZZ") else "YY")) == "booking_forged"
        assert read(signer.make_payload(booking_id, "OTHER", CODE)) == "booking_wrong_office"
        assert read(signer.make_payload(booking_id + 1000, "DEMO", "ZZZZ-ZZZZ")) == "not_found"
        assert read(payload.rsplit(".", 2)[0]) == "booking_damaged"
        for junk in ("hello world", "12345", "x" * 600, "bell\x07", "", "LKB1"):
            assert read(junk) in ("not_booking", "booking_damaged"), junk

        kiosk = s.scalars(select(Device).where(Device.kind == "kiosk")).first()
        pickup = s.scalars(select(Device).where(Device.kind == "pickup")).first()
        answer = kiosk_scans.record_kiosk_scan(s, kiosk.id, {"code": payload, "source": "scanner"}, signer)
        assert answer["ok"] and answer["code"] == CODE and "booking_id" not in answer
        with pytest.raises(ValidationError):
            kiosk_scans.record_kiosk_scan(s, kiosk.id, {"code": None}, signer)
        if pickup is not None:
            assert not kiosk_scans.is_kiosk(s, pickup.id)
            with pytest.raises(ValidationError):
                kiosk_scans.record_kiosk_scan(s, pickup.id, {"code": payload}, signer)


def test_command_line_options_give_the_agent_a_scanner_and_a_camera(tmp_path):
    args = parse_args(["--server", "http://127.0.0.1:9", "--token", "t", "--printer", "sim://",
                       "--scanner", str(tmp_path / "ttyScanner"), "--baudrate", "115200", "--camera", "0",
                       "--decoder", "zxing", "--hold", "4"])
    agent = build_agent(args)
    assert agent.scanning.scanner.port == str(tmp_path / "ttyScanner") and agent.scanning.scanner.baudrate == 115200
    assert agent.scanning.camera.source == 0 and agent.scanning.decoder.name == "zxing"
    assert agent.scanning._dedupe["scanner"].hold_s == 4.0
    plain = build_agent(parse_args(["--server", "http://127.0.0.1:9", "--token", "t", "--printer", "sim://"]))
    assert plain.scanning is None
    # Not started: the scanner is not there, so its health says so once the loop runs.
    assert "scanner" in agent.health() and agent.health()["scanner"].state == "offline"


@pytest.mark.browser
@pytest.mark.slow
def test_kiosk_page_opens_check_in_prefilled_when_the_agent_scans(site, page_factory):  # noqa: F811
    from playwright.sync_api import expect

    pair = pty_pair(site.tmp)
    agent = KioskAgent(site.base, site.token, site.printer, scanner=ScannerReader(pair.b), health_interval_s=0.5)
    page = page_factory(1080, 1920)
    page.goto(site.server.kiosk_url())
    expect(page.locator("#screen-services")).to_be_visible()
    agent.start()
    try:
        wait_for(lambda: kiosk_health(site).get("scanner", {}).get("state") == "ok", what="scanner ok")
        with serial.Serial(pair.a, 9600) as scanner:
            scanner.write(resi_payload(site.app).encode() + b"\r")
            scanner.flush()
            expect(page.locator("#screen-checkin")).to_be_visible()
            expect(page.get_by_test_id("checkin-error")).to_contain_text("QR resi")
            scanner.write(site.payload.encode() + b"\r")
            scanner.flush()
            expect(page.get_by_test_id("checkin-ref")).to_have_value(CODE)
            expect(page.get_by_test_id("checkin-scanned")).to_be_visible()
            expect(page.get_by_test_id("checkin-error")).to_be_hidden()
            expect(page.get_by_test_id("checkin-nik")).to_be_focused()
            page.get_by_test_id("checkin-nik").type(NIK[-6:] + "\n")
            expect(page.locator("#screen-ticket")).to_be_visible()
            expect(page.get_by_test_id("ticket-number")).to_have_text("B001")
            assert NIK not in page.content()
    finally:
        agent.stop()
        pair.stop()


def test_scan_histories_stay_bounded_and_a_code_in_view_is_sent_once(tmp_path):
    """10 000 bookings scanned while one code stays under the scanner: ``reported`` and
    ``answers`` keep the last ``history`` scans, and each code goes to the server once."""
    from kiosk.scanning import KioskScanning

    sent: list[str] = []

    def send(event, payload, on_ack=None):  # the server, acking each scan at once
        assert event == "scan"
        sent.append(payload["code"])
        on_ack({"ok": True, "scan": {"code_kind": "booking"}})

    scanning = KioskScanning(SimpleNamespace(send=send), scanner=ScannerReader(str(tmp_path / "none")),
                             hold_s=3.0, history=50)
    for i in range(10_000):
        now = i * 0.01
        codes = ["held", f"LKB1.{i}"]
        assert scanning.handle_codes(codes, "scanner", now=now) == (codes if i == 0 else [f"LKB1.{i}"])
        assert scanning.handle_codes([f"LKB1.{i}"], "scanner", now=now + 0.005) == []  # scanned twice: once
    assert sent == ["held"] + [f"LKB1.{i}" for i in range(10_000)]
    assert len(scanning.reported) == len(scanning.answers) == 50
    assert [r["code"] for r in scanning.reported] == [f"LKB1.{i}" for i in range(9_950, 10_000)]
    assert [scan["code"] for scan, _answer in scanning.answers] == [f"LKB1.{i}" for i in range(9_950, 10_000)]
