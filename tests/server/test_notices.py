"""Notices to citizens (issue 4): texts, channel order, the outbox's retries, backoff and
give-up, against a real local SMTP server (aiosmtpd) and a local HTTP gateway stand-in,
each on SQLite and on PostgreSQL (the ``database`` fixture is parametrized)."""
from __future__ import annotations

import json
import ssl
import subprocess
import threading
import time
from datetime import timedelta
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, func, inspect, select

from server.migrations import alembic_config, upgrade
from server.models import Application, Base, Notice, Office
from server.services import events
from server.services.applications import application_public, approve, hand_over, return_for_correction
from server.services.notices import (
    LEASE, NoticeConfigError, application_event_subscriber, application_notice_text, choose_channel, deliver_due,
    notice_status, on_application_changed, providers_from_config, queue_application_notice, queue_notice,
)
from server.services.notices.outbox import _claim
from server.services.notices.subscriber import notice_kind
from tests.live import free_port
from tests.server import test_applications as applications
from tests.server.test_applications import T0, kk_application, minutes

SENDER = "Disdukcapil Kota Demo <noreply@demo.go.id>"
TOKEN = "rahasia-token-123"
READY_AT = T0 + minutes(60)
ALL = ("whatsapp", "sms", "email")
staff = applications.staff  # the fixture: one officer of each chain role


# -- a local HTTP gateway stand-in and a real SMTP server ------------------------------------
class Gateway:
    """A WhatsApp/SMS gateway on 127.0.0.1: records every request; ``mode`` "ok", "503" or
    "400"; :meth:`stop` closes the port (connections refused) until :meth:`start`."""

    def __init__(self) -> None:
        self.port, self.mode, self.delay, self.requests, self._server = free_port(), "ok", 0.0, [], None
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                body = json.loads(raw) if "json" in self.headers.get("Content-Type", "") else parse_qs(raw)
                time.sleep(gateway.delay)
                gateway.requests.append({"path": self.path, "headers": dict(self.headers), "body": body,
                                         "mode": gateway.mode})
                code = {"ok": 200, "503": 503, "400": 400}[gateway.mode]
                answer = {"status": True, "data": {"id": f"wa-{len(gateway.requests)}"}} if code == 200 else \
                    {"status": False, "reason": "nomor tidak terdaftar" if code == 400 else "maintenance"}
                data = json.dumps(answer).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def delivered(self) -> list[dict]:
        return [r for r in self.requests if r["mode"] == "ok"]


class Mailbox:
    """aiosmtpd handler: keeps each message; refuses recipients starting with "tolak" (550)."""

    def __init__(self) -> None:
        self.messages = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.startswith("tolak"):
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 2.0.0 Ok: queued"


@pytest.fixture
def gateway():
    gw = Gateway()
    gw.start()
    yield gw
    gw.stop()


@pytest.fixture
def mailbox():
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port
    yield box
    controller.stop()


def config(gateway: Gateway | None = None, mailbox: Mailbox | None = None, channels=ALL) -> dict:
    out = {}
    if gateway and "whatsapp" in channels:
        out["whatsapp"] = {"kind": "http", "url": gateway.url + "/wa/send", "token": TOKEN, "timeout": 2,
                           "body": {"phone": "{to}", "message": "{text}", "ref_id": "{ref}"},
                           "message_id_path": "data.id", "ok_path": "status"}
    if gateway and "sms" in channels:
        out["sms"] = {"kind": "http", "url": gateway.url + "/sms/send", "body_format": "form", "timeout": 2,
                      "headers": {"X-Api-Key": "kunci"}, "body": {"msisdn": "{to_local}", "pesan": "{text}"}}
    if "email" in channels:
        port = mailbox.port if mailbox else free_port()  # no mailbox: a port nobody listens on
        out["email"] = {"kind": "smtp", "host": "127.0.0.1", "port": port, "starttls": False, "sender": SENDER,
                        "timeout": 2}
    return out


# -- helpers: a KK file made ready (or returned) with its notice queued in the same transaction
def transition(database, fn, app_id, actor, at, *args, providers=None, **kw):
    """``fn`` (approve, return_for_correction, hand_over) at the current version; the
    notice it calls for is queued in the same transaction. Returns (application, notice id)."""
    with database.session() as s:
        version = s.get(Application, app_id).version
        app = fn(s, app_id, *args, actor=actor, expected_version=version, now=at, **kw)
        notice = on_application_changed(s, app, providers=providers or {}, now=at)
        return app, notice.id if notice else None


def ready_file(database, office_id, open_desk, staff, providers):
    """A KK application made ready at READY_AT; (application, notice id)."""
    app, _ = kk_application(database, office_id, open_desk)
    for role, at in (("section_head", 40), ("division_head", 50), ("head_of_office", 55)):
        _, notice_id = transition(database, approve, app.id, staff[role], T0 + minutes(at), providers=providers)
        assert notice_id is None
    return transition(database, approve, app.id, staff["front_office"], READY_AT, providers=providers,
                      shelf_location="RAK-B-03")


def notice(database, notice_id) -> Notice:
    with database.session() as s:
        return s.get(Notice, notice_id)


def notice_count(database) -> int:
    with database.session() as s:
        return s.scalar(select(func.count()).select_from(Notice))


def deliver(database, providers, at, **kw) -> dict:
    return deliver_due(database.Session, providers_from_config(providers), at, **kw)


# -- texts and channels ---------------------------------------------------------------------
def test_ready_notice_goes_by_whatsapp_with_resi_and_pickup_instructions(database, office_id, open_desk, staff,
                                                                         gateway, mailbox):
    with database.session() as s:
        s.get(Office, office_id).settings = {**s.get(Office, office_id).settings, "notices": {"drive_thru": True}}
    providers = providers_from_config(config(gateway, mailbox))
    app, notice_id = ready_file(database, office_id, open_desk, staff, providers)
    n = notice(database, notice_id)
    assert (n.kind, n.channel, n.recipient, n.status, n.attempts) == ("ready", "whatsapp", "6281234567890", "pending", 0)
    assert n.dedupe_key == f"app{app.id}:ready:{app.version}" and n.next_attempt_at == READY_AT
    body = n.body
    assert "DEMO-B-20261123-0001" in body and "DEMO-B-20261123-0001" in n.subject
    for phrase in ("Yth. Bapak/Ibu Budi Santoso", "Kartu Keluarga (KK) Anda dengan nomor resi", "SUDAH SELESAI",
                   'ambil nomor antrean layanan "Pengambilan Dokumen" di anjungan', "loket Pengambilan Dokumen",
                   "lajur Drive-Thru", "hari kerja pukul 07.30-16.00 WIB", "Jl. Jenderal Sudirman No. 1",
                   "Tunjukkan resi", "KTP-el asli", "surat kuasa (formulir F-1.07)", "GRATIS"):
        assert phrase in body, phrase
    assert "RAK-B-03" not in body  # the shelf is for staff

    assert deliver(database, config(gateway, mailbox), READY_AT + timedelta(seconds=5)) == {
        "sent": 1, "retrying": 0, "failed": 0, "gave_up": 0}
    [request] = gateway.requests
    assert request["path"] == "/wa/send" and request["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert request["body"] == {"phone": "6281234567890", "message": body, "ref_id": n.dedupe_key}
    assert mailbox.messages == []  # one notice, one channel
    with database.session() as s:
        [status] = notice_status(s, app.id)
    assert (status["status"], status["status_label_id"], status["attempts"], status["provider_message_id"]) == (
        "sent", "terkirim", 1, "wa-1")
    assert status["sent_at"] == (READY_AT + timedelta(seconds=5)).isoformat() and status["next_attempt_at"] is None
    assert TOKEN not in repr(providers_from_config(config(gateway)))


def test_returned_to_the_counter_tells_the_citizen_the_reason(database, office_id, open_desk, staff, gateway):
    providers = providers_from_config(config(gateway, channels=("sms",)))
    app, _ = kk_application(database, office_id, open_desk)
    transition(database, approve, app.id, staff["section_head"], T0 + minutes(40), providers=providers)
    back, notice_id = transition(database, return_for_correction, app.id, staff["division_head"], T0 + minutes(50),
                                 "cek ulang Kasi", providers=providers)
    assert (back.status, back.step_code, notice_id) == ("returned", "kasi_verify", None)  # inside the back office
    reason = "F-1.06 belum ditandatangani kepala keluarga"
    back, notice_id = transition(database, return_for_correction, app.id, staff["section_head"], T0 + minutes(60),
                                 reason, providers=providers)
    assert (back.status, back.step_code) == ("returned", "register")  # back at the counter: the citizen must come
    n = notice(database, notice_id)
    assert (n.kind, n.channel, n.recipient) == ("returned", "sms", "6281234567890")
    assert "DEMO-B-20261123-0001" in n.body and reason in n.body and "DIKEMBALIKAN untuk perbaikan" in n.body
    assert len(n.body) <= 320 and "07.30-16.00 WIB" in n.body

    with database.session() as s:
        full = application_notice_text(s, s.get(Application, app.id), "returned", "whatsapp")
    for phrase in ("DIKEMBALIKAN untuk perbaikan", f"Alasan: {reason}", "DEMO-B-20261123-0001",
                   'Ambil nomor antrean layanan "Kartu Keluarga (KK)"', "dokumen perbaikan", "nomor resi tetap sama"):
        assert phrase in full.body, phrase

    assert deliver(database, config(gateway, channels=("sms",)), T0 + minutes(61))["sent"] == 1
    [request] = gateway.requests
    assert request["path"] == "/sms/send" and request["headers"]["X-Api-Key"] == "kunci"
    assert request["body"] == {"msisdn": ["081234567890"], "pesan": [n.body]} and "Authorization" not in request["headers"]


def test_a_ktp_el_is_collected_in_person(database, office_id):
    with database.session() as s:
        service = next(sv for sv in s.get(Office, office_id).services if sv.code == "ktp_el")
        app = Application(id=99, office_id=office_id, service=service, resi_number="DEMO-A-20261123-0007",
                          applicant_name="Siti Aminah", steps=service.steps, status="ready", version=7)
        full = application_notice_text(s, app, "ready", "whatsapp").body
        sms = application_notice_text(s, app, "ready", "sms").body
    assert "wajib diambil sendiri oleh pemohon (tidak dapat diwakilkan)" in full and "F-1.07" not in full
    assert "DEMO-A-20261123-0007" in sms and "diambil sendiri" in sms and len(sms) <= 320


def test_channel_order_whatsapp_then_sms_then_email(database, office_id, open_desk, staff, gateway, mailbox):
    app, _ = kk_application(database, office_id, open_desk)
    every = providers_from_config(config(gateway, mailbox))

    def pick(channels, **contact):
        subset = {c: p for c, p in every.items() if c in channels}
        return choose_channel(Application(**{"phone": app.phone, "email": app.email, **contact}), subset)

    assert pick(ALL) == ("whatsapp", "6281234567890")
    assert pick(("sms", "email")) == ("sms", "6281234567890")
    assert pick(("email",)) == ("email", "budi@example.id")
    assert pick(ALL, phone="") == ("email", "budi@example.id")
    assert pick(ALL, phone="+6281298765432") == ("whatsapp", "6281298765432")
    assert pick(("whatsapp", "sms"), phone="") is None
    assert pick((), phone="081234567890") is None

    # No usable channel: nothing is queued.
    with database.session() as s:
        assert queue_application_notice(s, s.get(Application, app.id), "ready", providers={}) is None
    assert notice_count(database) == 0


def test_email_through_a_real_smtp_server(database, office_id, open_desk, staff, mailbox):
    providers = config(mailbox=mailbox, channels=("email",))
    app, notice_id = ready_file(database, office_id, open_desk, staff, providers_from_config(providers))
    assert notice(database, notice_id).channel == "email"
    assert deliver(database, providers, READY_AT)["sent"] == 1
    [msg] = mailbox.messages
    n = notice(database, notice_id)
    assert msg["To"] == "budi@example.id" and msg["From"] == SENDER and msg["Auto-Submitted"] == "auto-generated"
    assert msg["Subject"] == "Dokumen siap diambil - resi DEMO-B-20261123-0001" == n.subject
    assert msg["Message-ID"] == n.provider_message_id and f"notice-{n.id}" in n.provider_message_id
    text = msg.get_content()
    assert "DEMO-B-20261123-0001" in text and "SUDAH SELESAI" in text and "Drive-Thru" not in text  # no pickup station


def test_smtp_down_is_retried_and_a_refused_address_is_not(database, office_id, open_desk, staff, mailbox):
    down = config(channels=("email",))  # nothing listens on its port
    _, notice_id = ready_file(database, office_id, open_desk, staff, providers_from_config(down))
    assert deliver(database, down, READY_AT)["retrying"] == 1
    n = notice(database, notice_id)
    assert (n.status, n.attempts, n.next_attempt_at) == ("pending", 1, READY_AT + timedelta(seconds=30))
    assert "unreachable" in n.last_error

    up = config(mailbox=mailbox, channels=("email",))
    with database.session() as s:  # a second notice to an address the server refuses
        tolak = queue_notice(s, office_id=n.office_id, application_id=None, kind="test", channel="email",
                             recipient="tolak@example.id", subject="Tes", body="Tes", dedupe_key="test:tolak",
                             now=READY_AT).id
    assert deliver(database, up, READY_AT + timedelta(seconds=30)) == {"sent": 1, "retrying": 0, "failed": 1, "gave_up": 0}
    refused = notice(database, tolak)
    assert (refused.status, refused.attempts) == ("failed", 1) and refused.last_error.startswith("SMTP 550")
    assert len(mailbox.messages) == 1 and notice(database, notice_id).status == "sent"
    assert deliver(database, up, READY_AT + timedelta(days=1)) == dict.fromkeys(("sent", "retrying", "failed", "gave_up"), 0)


def test_smtp_starttls_and_login(database, office_id, open_desk, staff, tmp_path):
    """The usual office setup (port 587): STARTTLS with a verified certificate, then AUTH."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=(auth_data.login, auth_data.password) == (b"loket", b"sandi-rahasia"), handled=False)

    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port(), tls_context=tls, require_starttls=True,
                            authenticator=authenticator, auth_required=True)
    controller.start()
    try:
        email = {"kind": "smtp", "host": "127.0.0.1", "port": controller.port, "sender": SENDER, "timeout": 5,
                 "user": "loket", "password": "salah", "ca_file": str(cert)}  # starttls is the default
        _, notice_id = ready_file(database, office_id, open_desk, staff, providers_from_config({"email": email}))
        assert deliver(database, {"email": email}, READY_AT)["retrying"] == 1  # a wrong password: the office's fix
        assert notice(database, notice_id).last_error.startswith("SMTP 535") and box.messages == []
        email["password"] = "sandi-rahasia"
        assert deliver(database, {"email": email}, READY_AT + timedelta(seconds=30))["sent"] == 1
        assert len(box.messages) == 1 and "DEMO-B-20261123-0001" in box.messages[0]["Subject"]
        assert "sandi-rahasia" not in repr(providers_from_config({"email": email}))
    finally:
        controller.stop()


# -- the outbox: down then back, rejection, give-up, dedupe, interrupted attempts --------------
def test_gateway_down_then_back_delivers_exactly_once(database, office_id, open_desk, staff, gateway):
    providers = config(gateway, channels=("whatsapp",))
    app, notice_id = ready_file(database, office_id, open_desk, staff, providers_from_config(providers))
    gateway.stop()  # connections refused
    assert deliver(database, providers, READY_AT)["retrying"] == 1
    n = notice(database, notice_id)
    assert (n.status, n.attempts, n.next_attempt_at) == ("pending", 1, READY_AT + timedelta(seconds=30))
    assert n.last_error.startswith("gateway unreachable")
    assert deliver(database, providers, READY_AT + timedelta(seconds=29))["retrying"] == 0  # not due yet

    gateway.start()
    gateway.mode = "503"
    assert deliver(database, providers, READY_AT + timedelta(seconds=30))["retrying"] == 1
    n = notice(database, notice_id)
    assert (n.status, n.attempts, n.next_attempt_at) == ("pending", 2, READY_AT + timedelta(seconds=150))
    assert n.last_error.startswith("HTTP 503")

    gateway.mode = "ok"
    assert deliver(database, providers, READY_AT + timedelta(seconds=150))["sent"] == 1
    for later in (timedelta(seconds=151), timedelta(hours=1), timedelta(days=2)):
        assert deliver(database, providers, READY_AT + later)["sent"] == 0
    assert len(gateway.delivered()) == 1 and len(gateway.requests) == 2
    with database.session() as s:
        [status] = notice_status(s, app.id)
    assert (status["status"], status["attempts"], status["provider_message_id"]) == ("sent", 3, "wa-2")
    assert status["last_error"].startswith("HTTP 503")  # what happened before, for staff


def test_permanent_rejection_fails_without_hammering(database, office_id, open_desk, staff, gateway):
    providers = config(gateway, channels=("whatsapp",))
    app, notice_id = ready_file(database, office_id, open_desk, staff, providers_from_config(providers))
    gateway.mode = "400"
    assert deliver(database, providers, READY_AT)["failed"] == 1
    for later in (timedelta(minutes=1), timedelta(hours=2), timedelta(days=1)):
        deliver(database, providers, READY_AT + later)
    assert len(gateway.requests) == 1
    n = notice(database, notice_id)
    assert (n.status, n.attempts, n.sent_at) == ("failed", 1, None) and "nomor tidak terdaftar" in n.last_error
    with database.session() as s:
        assert notice_status(s, app.id)[0]["status_label_id"] == "ditolak penyedia"


def test_backoff_then_gave_up_after_24_hours(database, office_id, open_desk, staff, gateway):
    providers = config(gateway, channels=("whatsapp",))
    _, notice_id = ready_file(database, office_id, open_desk, staff, providers_from_config(providers))
    gateway.mode = "503"
    at, attempts_at = READY_AT, []
    while notice(database, notice_id).status == "pending":
        attempts_at.append(at)
        deliver(database, providers, at)
        at = notice(database, notice_id).next_attempt_at
    gaps = [b - a for a, b in zip(attempts_at, attempts_at[1:])]
    assert gaps[:5] == [timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(minutes=30),
                        timedelta(hours=1)]
    assert set(gaps[4:]) == {timedelta(hours=1)}
    n = notice(database, notice_id)
    assert n.status == "gave_up" and n.attempts == len(attempts_at) == len(gateway.requests) == 28
    assert attempts_at[-1] - READY_AT <= timedelta(hours=24) < attempts_at[-1] + timedelta(hours=1) - READY_AT
    assert deliver(database, providers, READY_AT + timedelta(days=3))["sent"] == 0


def test_the_same_notice_is_queued_once(database, office_id, open_desk, staff, gateway):
    providers = providers_from_config(config(gateway))
    app, first = ready_file(database, office_id, open_desk, staff, providers)
    with database.session() as s:  # asked again (a retried request, a replayed event)
        again = on_application_changed(s, s.get(Application, app.id), providers=providers, now=READY_AT)
        assert again.id == first
    subscriber = application_event_subscriber(database.Session, providers)
    with database.session() as s:
        event = events.DomainEvent(events.APPLICATION_CHANGED, office_id,
                                   {"application": application_public(s.get(Application, app.id))})
    subscriber([event, event])
    assert notice_count(database) == 1

    # A new transition is a new notice: returned to the counter, then ready again.
    back, returned = transition(database, return_for_correction, app.id, staff["pickup_officer"], READY_AT + minutes(5),
                                "cap buram", providers=providers)
    assert back.step_code == "register_stamp" and returned is None  # the back office fixes it: nothing to tell
    _, again = transition(database, approve, app.id, staff["front_office"], READY_AT + minutes(20), providers=providers,
                          shelf_location="RAK-B-04")
    assert again != first and notice_count(database) == 2
    # The first "ready" notice tells nothing false (the file is ready again): both may go.


def test_event_subscriber_queues_after_commit_and_skips_stale_events(database, office_id, open_desk, staff, gateway):
    providers = providers_from_config(config(gateway))
    events.install(database.Session, application_event_subscriber(database.Session, providers))
    app, _ = kk_application(database, office_id, open_desk)
    for role, at in (("section_head", 40), ("division_head", 50), ("head_of_office", 55), ("front_office", 60)):
        transition(database, approve, app.id, staff[role], T0 + minutes(at))  # providers={}: nothing queued inline
    with database.session() as s:
        [ready] = s.scalars(select(Notice)).all()
        assert (ready.kind, ready.application_id, ready.channel) == ("ready", app.id, "whatsapp")
    transition(database, hand_over, app.id, staff["pickup_officer"], T0 + minutes(90), collector={"name": "Budi"})
    assert notice_count(database) == 1


def test_a_notice_about_a_state_left_behind_is_not_sent(database, office_id, open_desk, staff, gateway):
    providers = config(gateway, channels=("whatsapp",))
    app, notice_id = ready_file(database, office_id, open_desk, staff, providers_from_config(providers))
    gateway.stop()
    deliver(database, providers, READY_AT)
    transition(database, hand_over, app.id, staff["pickup_officer"], READY_AT + minutes(10), collector={"name": "Budi"})
    gateway.start()
    assert deliver(database, providers, READY_AT + minutes(11))["gave_up"] == 1
    n = notice(database, notice_id)
    assert (n.status, n.last_error) == ("gave_up", "not sent: the application is now collected")
    assert gateway.requests == []


def test_an_interrupted_attempt_is_sent_again_after_its_lease(database, office_id, open_desk, staff, gateway):
    """The at-least-once window: a process dies after claiming (or sending) a notice and
    before recording the result; the notice goes again once the lease runs out."""
    providers = config(gateway, channels=("whatsapp",))
    _, notice_id = ready_file(database, office_id, open_desk, staff, providers_from_config(providers))
    claim = _claim(database.Session, READY_AT, set())  # claimed, then the process "dies"
    assert claim.notice.id == notice_id and claim.notice.attempt == 1
    n = notice(database, notice_id)
    assert (n.status, n.next_attempt_at) == ("sending", READY_AT + LEASE)
    assert deliver(database, providers, READY_AT + LEASE - timedelta(seconds=1))["sent"] == 0  # leased: not taken
    assert gateway.requests == []
    assert deliver(database, providers, READY_AT + LEASE)["sent"] == 1
    n = notice(database, notice_id)
    assert (n.status, n.attempts) == ("sent", 2) and "interrupted" in n.last_error
    assert len(gateway.requests) == 1


def test_two_workers_at_once_send_each_notice_once(database, office_id, gateway):
    providers = config(gateway, channels=("whatsapp",))
    with database.session() as s:
        for i in range(12):
            queue_notice(s, office_id=office_id, application_id=None, kind="test", channel="whatsapp",
                         recipient=f"62812000000{i:02d}", subject="Tes", body=f"pesan {i}", dedupe_key=f"test:{i}",
                         now=T0)
    gateway.delay = 0.03
    results, errors = [], []

    def worker():
        try:
            results.append(deliver(database, providers, T0 + minutes(1)))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == [] and sum(r["sent"] for r in results) == 12
    refs = sorted(r["body"]["ref_id"] for r in gateway.requests)
    assert refs == sorted(f"test:{i}" for i in range(12))  # each once
    if database.engine.dialect.name == "postgresql":
        assert sum(1 for r in results if r["sent"]) >= 2  # SKIP LOCKED: the workers shared the batch


# -- configuration and migration ------------------------------------------------------------
def test_providers_from_config_refuses_mistakes():
    assert set(providers_from_config({"whatsapp": {"kind": "http", "url": "http://gw/send"}, "sms": None})) == {"whatsapp"}
    for bad, words in (
        ({"telegram": {"kind": "http", "url": "http://x"}}, "unknown channel"),
        ({"whatsapp": {"kind": "carrier-pigeon"}}, "kind must be one of"),
        ({"whatsapp": {"kind": "smtp", "host": "h", "sender": "a@b.id"}}, "cannot send whatsapp"),
        ({"email": {"kind": "smtp", "host": "h", "sender": "a@b.id", "passwd": "x"}}, "unknown option"),
        ({"email": {"kind": "smtp", "sender": "a@b.id"}}, "host"),
        ({"sms": {"kind": "http", "url": "ftp://x"}}, "http://"),
        ({"email": {"kind": "smtp", "host": "h", "sender": "a@b.id", "ssl": True}}, "not both"),
    ):
        with pytest.raises(NoticeConfigError, match=words):
            providers_from_config(bad)


def test_migration_0004_upgrades_and_downgrades(db_url):
    cfg = alembic_config(db_url)
    command.downgrade(cfg, "0003")
    engine = create_engine(db_url)
    try:
        assert "notices" not in inspect(engine).get_table_names()
        engine.dispose()  # a pooled SQLite connection keeps the old schema for its first PRAGMA
        upgrade(db_url)
        insp = inspect(engine)
        assert {u["name"] for u in insp.get_unique_constraints("notices")} == {"uq_notices_dedupe_key"}
        assert {i["name"] for i in insp.get_indexes("notices")} >= {"ix_notices_due", "ix_notices_application_id"}
        assert {f["name"] for f in insp.get_foreign_keys("notices")} == {
            "fk_notices_office_id_offices", "fk_notices_application_id_applications"}
        with engine.connect() as conn:  # the model and the migration agree
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert [d for d in diff if "notices" in repr(d)] == []
    finally:
        engine.dispose()


def test_a_printed_ktp_el_calls_the_citizen_to_activate_in_person(database, office_id):
    with database.session() as s:
        service = next(sv for sv in s.get(Office, office_id).services if sv.code == "ktp_el")
        app = Application(id=98, office_id=office_id, service=service, resi_number="DEMO-A-20261123-0008",
                          applicant_name="Siti Aminah", steps=service.steps, status="in_progress", version=5,
                          step_code="activate", step_index=[st["code"] for st in service.steps].index("activate"))
        assert notice_kind(app) == "printed"
        full = application_notice_text(s, app, "printed", "whatsapp").body
        sms = application_notice_text(s, app, "printed", "sms").body
    assert "SUDAH DICETAK" in full and "tidak dapat diwakilkan" in full and 'layanan "Aktivasi KTP-el"' in full
    assert "DEMO-A-20261123-0008" in sms and "SENDIRI" in sms and len(sms) <= 320
    app.step_code, app.step_index = "kabid_verify", 5
    assert notice_kind(app) is None
