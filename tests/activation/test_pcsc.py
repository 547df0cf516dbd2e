"""KTP-el card bound at print and activated at the activation counter (issue 5) on the REAL
PC/SC stack: a private pcscd with the vsmartcard vpcd driver (one module-wide stack,
readers "Loket Aktivasi 00 00" and "Loket Aktivasi 00 01": vpcd gives two slots per
configuration entry), the virtual card in its own process, the activation agent
(:class:`activation.agent.ActivationAgent`) reporting to a live Loket server
(``live_server``: in-process, SQLite, threading Socket.IO) with the demo's activation
station "Aktivasi KTP-el Loket 7". Staff drive everything over HTTP as the pages do.

Nothing of PC/SC is mocked: a tap is the virtual card connecting to vpcd, pcscd seeing
it at its next poll, the agent reading the UID with GET DATA and sending the ``card``
event. Waits are generous (pcscd polls vpcd every ~400 ms); no sleep is an assertion.
TEST MACHINES ONLY (vpcd listens on all interfaces).
"""
from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from drivers.smartcard import CardEventKind, CardWatcher
from tests.support.pcsc_stack import PcscStack
from tests.support.vicc import DEFAULT_ATR, VirtualCard
from activation.agent import ActivationAgent
from server.models import Activation, CardBinding, Device, DeviceKind
from server.models.audit import AuditEntry
from tests.live import wait_for

READER_1 = "Loket Aktivasi 00 00"
READER_2 = "Loket Aktivasi 00 01"
UID, OTHER, STRANGER = "04A1B2C3D4E5F6", "04112233445566", "04DEADBEEF0001"
KTP_RENEWAL = ["KTP lama", 4, "Biometric recording done"]
PEOPLE = {  # NIK: name (Pekanbaru NIKs, valid birth dates)
    "1471011205900001": "Budi Santoso",
    "1471010101900003": "Andi Wijaya",
    "1471015208900002": "Siti Aminah",
}
WAIT = 15.0  # seconds: pcscd polls vpcd every ~400 ms; a loaded 2-core machine is slower


@pytest.fixture(scope="module")
def pcsc():
    """One private pcscd for the module: readers READER_1 and READER_2."""
    stack = PcscStack(["Loket Aktivasi"]).start()
    yield stack
    stack.close()


def start_agent(server, reader: str) -> ActivationAgent:
    agent = ActivationAgent(server.url, server.tokens["activation"], reader=reader, health_interval_s=1.0,
                            max_backoff_s=1.0, watcher_wait_ms=500)
    agent.start()
    wait_for(lambda: agent.connected, timeout=WAIT, what="activation agent connected")
    return agent


@pytest.fixture
def station(pcsc, live_server):
    """The demo's activation station with its agent on READER_1, a virtual card (off the
    reader) on READER_1's slot, and the staff sessions of the flow."""
    with live_server.db.session() as s:
        device_id = s.scalar(select(Device.id).where(Device.name == "Aktivasi KTP-el Loket 7"))
        pickup_id = s.scalar(select(Device.id).where(Device.kind == DeviceKind.PICKUP.value))
    card = VirtualCard(pcsc.reader(READER_1).port, uid=UID).start()
    agent = start_agent(live_server, READER_1)
    st = SimpleNamespace(server=live_server, base=live_server.url, pcsc=pcsc, card=card, agent=agent,
                         device_id=device_id, pickup_id=pickup_id, fo1=live_server.staff("fo1"),
                         kasi=live_server.staff("kasi"), kabid=live_server.staff("kabid"),
                         officer=live_server.staff("aktivasi"), ambil=live_server.staff("ambil"), counter=None)
    wait_for(lambda: reader_health(st).get("state") == "ok", timeout=WAIT, what="reader health ok")
    try:
        yield st
    finally:
        st.agent.stop()
        card.close()
        if pcsc.proc is None:  # a test stopped pcscd and failed before starting it again
            pcsc.start()


# -- helpers: staff over HTTP ------------------------------------------------------------
def post(staff, path: str, body: dict | None = None):
    return staff.http.post(f"{staff.base}/api/v1{path}", json=body or {}, timeout=10)


def application(st, app_id: int) -> dict:
    r = st.kasi.http.get(f"{st.base}/api/v1/applications/{app_id}", timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["application"]


def approve(st, staff, app_id: int) -> dict:
    r = post(staff, f"/applications/{app_id}/approve", {"expected_version": application(st, app_id)["version"]})
    assert r.status_code == 200, r.text
    return r.json()["application"]


def register_ktp(st, nik: str) -> tuple[int, str]:
    """fo1 serves a KTP-el ticket at counter 1 and registers a renewal for ``nik``."""
    if st.counter is None:
        st.counter = st.fo1.counters()[1]["id"]
        st.fo1.act(1, "open")
    st.server.issue("ktp_el")
    st.fo1.act(1, "call-next", finish_current=True)
    st.fo1.act(1, "start")
    r = post(st.fo1, f"/counters/{st.counter}/application", {
        "nik": nik, "name": PEOPLE[nik], "phone": "081234567890", "email": "warga@example.id", "case": "renewal",
        "confirmed": KTP_RENEWAL})
    assert r.status_code == 201, r.text
    return r.json()["application"]["id"], r.json()["resi"]["number"]


def to_print(st, app_id: int) -> None:
    approve(st, st.kasi, app_id)
    assert approve(st, st.kabid, app_id)["step"]["code"] == "print"


def station_state(st) -> dict:
    r = st.officer.http.get(f"{st.base}/api/v1/activation/{st.device_id}", timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def session_where(st, **card) -> dict:
    """Wait until the open session's card has these fields; the session."""
    def check():
        session = station_state(st)["session"]
        return session if session and all(session["card"].get(k) == v for k, v in card.items()) else None
    return wait_for(check, timeout=WAIT, what=f"session card {card}")


def card_on_station(st, uid: str | None) -> dict:
    """Wait until the station shows ``uid`` on its reader (None: no card); its card."""
    def check():
        card = station_state(st)["station"]["card"]
        return card if (card["present"] and card["uid"] == uid) or (uid is None and not card["present"]) else None
    return wait_for(check, timeout=WAIT, what=f"station card {uid}")


def tap(st, uid: str) -> dict:
    """The virtual card with ``uid`` onto READER_1, until the server has it."""
    if st.card.uid != uid:
        st.card.set_uid(uid)
    st.card.insert()
    return card_on_station(st, uid)


def lift(st) -> None:
    st.card.remove()
    card_on_station(st, None)


def bind_at_print(st, app_id: int, uid: str) -> dict:
    """The printing operator taps the new card, binds it, lifts it, finishes printing."""
    station_card = tap(st, uid)
    assert station_card["reader"] == READER_1
    r = post(st.fo1, f"/applications/{app_id}/card", {"device_id": st.device_id,
                                                     "expected_version": application(st, app_id)["version"]})
    assert r.status_code == 200, r.text
    lift(st)
    assert approve(st, st.fo1, app_id)["step"]["code"] == "activate"
    return r.json()["card"]


def printed(st, nik: str, uid: str) -> tuple[int, str]:
    app_id, resi = register_ktp(st, nik)
    to_print(st, app_id)
    bind_at_print(st, app_id, uid)
    return app_id, resi


def open_session(st, ref: str) -> dict:
    r = post(st.officer, f"/activation/{st.device_id}/open", {"ref": ref})
    assert r.status_code == 200, r.text
    return r.json()["session"]


def fingerprint(st, result: str = "match") -> dict:
    session = station_state(st)["session"]
    r = post(st.officer, f"/activation/{st.device_id}/fingerprint",
             {"result": result, "expected_version": session["version"]})
    assert r.status_code == 200, r.text
    return r.json()["session"]


def complete(st, **extra):
    session = station_state(st)["session"]
    return post(st.officer, f"/activation/{st.device_id}/complete",
                {"in_person": True, "identity_checked": True, "expected_version": session["version"], **extra})


def lookup(st, code: str) -> dict:
    r = post(st.ambil, f"/pickup/{st.pickup_id}/lookup", {"code": code})
    assert r.status_code == 200, r.text
    return r.json()


def reader_health(st) -> dict:
    with st.server.db.session() as s:
        return (s.get(Device, st.device_id).health or {}).get("card_reader") or {}


def binding(st, app_id: int) -> CardBinding | None:
    with st.server.db.session() as s:
        row = s.get(CardBinding, app_id)
        if row is not None:
            s.expunge(row)
        return row


def completed_activations(st) -> int:
    with st.server.db.session() as s:
        return s.scalar(select(func.count()).select_from(Activation).where(Activation.status == "completed"))


def agent_inserted(agent: ActivationAgent) -> list[dict]:
    return [a["event"] for a in list(agent.acks) if a.get("ok") and a.get("event", {}).get("event") == "inserted"]


# -- tests ---------------------------------------------------------------------------------
def test_card_bound_at_print_from_the_reader(station):
    st = station
    app_id, resi = register_ktp(st, "1471011205900001")
    r = post(st.fo1, f"/applications/{app_id}/card", {"device_id": st.device_id, "expected_version": 1})
    assert r.status_code == 409 and r.json()["error"] == "not_at_print"
    to_print(st, app_id)
    r = post(st.fo1, f"/applications/{app_id}/card", {"device_id": st.device_id,
                                                     "expected_version": application(st, app_id)["version"]})
    assert r.status_code == 409 and r.json()["error"] == "no_card"  # nothing on the reader yet
    r = post(st.fo1, f"/applications/{app_id}/approve", {"expected_version": application(st, app_id)["version"]})
    assert r.status_code == 409 and r.json()["error"] == "card_not_bound"

    card = bind_at_print(st, app_id, UID)
    assert (card["uid"], card["atr"], card["reader"]) == (UID, DEFAULT_ATR, READER_1)
    [inserted] = agent_inserted(st.agent)  # the agent's report of the real tap, acked
    assert (inserted["uid"], inserted["reader"], inserted["device_id"]) == (UID, READER_1, st.device_id)
    row = binding(st, app_id)
    assert (row.uid, row.atr, row.reader, row.nik, row.device_id) == (
        UID, DEFAULT_ATR, READER_1, "1471011205900001", st.device_id)
    assert row.activated_at is None
    app = application(st, app_id)
    assert app["step"]["code"] == "activate" and app["resi_number"] == resi
    with st.server.db.session() as s:
        [bound] = s.scalars(select(AuditEntry).where(AuditEntry.action == "application.card_bound")).all()
        assert bound.data["uid"] == UID and bound.data["reader"] == READER_1


def test_activation_with_real_taps_then_pickup_accepts_it(station):
    st = station
    app_id, resi = printed(st, "1471011205900001", UID)
    assert lookup(st, resi)["refusal"] == "ktp_not_activated"

    session = open_session(st, resi)
    assert session["card"]["state"] == "waiting" and session["application"]["id"] == app_id
    st.card.insert()  # the applicant's card on the reader
    session = session_where(st, state="match")
    assert (session["card"]["uid"], session["card"]["bound_uid"], session["card"]["reader"]) == (UID, UID, READER_1)
    assert session["can_complete"] is False
    assert fingerprint(st, "match")["can_complete"] is True
    r = complete(st, shelf_location="RAK-B-02")
    assert r.status_code == 200, r.text
    assert r.json()["session"]["status"] == "completed"
    lift(st)

    assert binding(st, app_id).activated_at is not None
    assert completed_activations(st) == 1
    scan = lookup(st, resi)
    assert scan["result"] == "ok" and scan["application"]["id"] == app_id
    assert scan["application"]["shelf_location"] == "RAK-B-02"
    with st.server.db.session() as s:
        [done] = s.scalars(select(AuditEntry).where(AuditEntry.action == "activation.completed")).all()
        assert (done.data["uid"], done.data["reader"]) == (UID, READER_1)


def test_refusals_with_real_cards(station):
    st = station
    # Not printed yet: the activation counter refuses to open it.
    early_id, early_resi = register_ktp(st, "1471015208900002")
    r = post(st.officer, f"/activation/{st.device_id}/open", {"ref": early_resi})
    assert r.status_code == 409 and r.json()["error"] == "not_printed" and "belum dicetak" in r.json()["message"]

    a_id, a_resi = printed(st, "1471011205900001", UID)
    b_id, b_resi = register_ktp(st, "1471010101900003")
    to_print(st, b_id)
    # Binding A's card to B at print: bound to another application.
    tap(st, UID)
    r = post(st.fo1, f"/applications/{b_id}/card", {"device_id": st.device_id,
                                                   "expected_version": application(st, b_id)["version"]})
    assert r.status_code == 409 and r.json()["error"] == "bound_elsewhere"
    lift(st)
    bind_at_print(st, b_id, OTHER)

    # A's session: an unknown card, then B's card, are refused on the session.
    open_session(st, a_resi)
    for uid, refusal in ((STRANGER, "unknown_card"), (OTHER, "bound_elsewhere")):
        tap(st, uid)
        session = session_where(st, state="mismatch", uid=uid)
        assert session["card"]["refusal"] == refusal and session["card"]["message"]
        assert session["can_complete"] is False
        lift(st)
        session_where(st, state="removed")
    tap(st, UID)
    session_where(st, state="match", uid=UID)
    fingerprint(st, "match")
    assert complete(st).status_code == 200
    lift(st)

    # Card already activated: its file cannot be opened again, and the card is refused at
    # another file's session.
    r = post(st.officer, f"/activation/{st.device_id}/open", {"ref": a_resi})
    assert r.status_code == 409 and r.json()["error"] == "already_activated"
    open_session(st, b_resi)
    tap(st, UID)
    session = session_where(st, state="mismatch", uid=UID)
    # An activated card is refused as such, at any file's session.
    assert session["card"]["refusal"] == "already_activated"
    lift(st)

    # B's card pulled mid-flow: matched, fingerprint verified, then taken off the reader.
    tap(st, OTHER)
    session_where(st, state="match", uid=OTHER)
    fingerprint(st, "match")
    st.card.remove()
    session = session_where(st, state="removed")
    assert session["can_complete"] is False
    r = complete(st)
    assert r.status_code == 409 and r.json()["error"] == "card_not_present"
    assert binding(st, b_id).activated_at is None and completed_activations(st) == 1
    assert application(st, b_id)["step"]["code"] == "activate"
    assert application(st, early_id)["step"]["code"] != "activate"
    with st.server.db.session() as s:
        refused = [e.data["reason"] for e in s.scalars(select(AuditEntry).where(
            AuditEntry.action == "activation.refused").order_by(AuditEntry.id))]
        card_refused = [e.data["reason"] for e in s.scalars(select(AuditEntry).where(
            AuditEntry.action == "activation.card_refused").order_by(AuditEntry.id))]
    assert refused == ["not_printed", "already_activated", "card_not_present"]
    assert card_refused == ["unknown_card", "bound_elsewhere", "already_activated"]


def test_reader_gone_and_back(station):
    st = station
    app_id, resi = printed(st, "1471011205900001", UID)
    open_session(st, resi)
    assert station_state(st)["station"]["reader"]["state"] == "ok"

    st.pcsc.stop()  # pcscd gone: the reader (vpcd) vanishes for every client
    try:
        reader = wait_for(lambda: (lambda r: r if r["state"] == "offline" else None)(
            station_state(st)["station"]["reader"]), timeout=WAIT, what="station reader offline")
        assert reader["detail"]
        health = reader_health(st)
        assert health["state"] == "offline"
        with st.server.db.session() as s:
            device = s.get(Device, st.device_id)
            assert device.unhealthy_since is not None and device.last_error.startswith("card_reader: offline")
    finally:
        st.pcsc.start()
    wait_for(lambda: station_state(st)["station"]["reader"]["state"] == "ok", timeout=WAIT, what="reader ok again")
    with st.server.db.session() as s:
        assert s.get(Device, st.device_id).unhealthy_since is None

    st.card.insert()  # a tap works again
    session = session_where(st, state="match", uid=UID)
    assert session["application"]["id"] == app_id
    fingerprint(st, "match")
    assert complete(st).status_code == 200
    assert binding(st, app_id).activated_at is not None


def test_station_bound_to_the_second_reader_by_name(station):
    st = station
    st.agent.stop()  # this station's agent: the second reader only
    st.agent = start_agent(st.server, READER_2)
    wait_for(lambda: (lambda h: h if h.get("state") == "ok" and h.get("detail") == READER_2 else None)(
        reader_health(st)), timeout=WAIT, what="health names only the second reader")

    # An observer on the first reader (same PC/SC stack, this process) proves pcscd saw
    # the card there: the agent had every chance to report it.
    seen: list = []
    cond = threading.Condition()

    def record(event):
        with cond:
            seen.append(event)
            cond.notify_all()

    observer = CardWatcher(record, reader=READER_1, wait_ms=500)
    observer.start()
    second = VirtualCard(st.pcsc.reader(READER_2).port, uid=OTHER).start()
    try:
        first_card_seen = lambda: any(e.event is CardEventKind.INSERTED and e.uid == UID for e in seen)  # noqa: E731
        wait_for(lambda: any(e.event is CardEventKind.READER_ADDED for e in seen), timeout=WAIT,
                 what="observer watching the first reader")
        st.card.insert()  # on the first reader: not this station's
        wait_for(first_card_seen, timeout=WAIT, what="PC/SC saw the card on the first reader")
        assert seen[-1].reader == READER_1
        second.insert()  # on the second reader: reported
        card = card_on_station(st, OTHER)
        assert card["reader"] == READER_2
        assert [(e["uid"], e["reader"]) for e in agent_inserted(st.agent)] == [(OTHER, READER_2)]
        second.remove()
        card_on_station(st, None)
        # The first card is still lying on the first reader and was never reported.
        assert [(e["uid"], e["reader"]) for e in agent_inserted(st.agent)] == [(OTHER, READER_2)]
        with st.server.db.session() as s:
            uids = [e.data.get("uid") for e in s.scalars(select(AuditEntry).where(
                AuditEntry.action == "device.card", AuditEntry.entity_id == st.device_id))]
        assert UID not in uids and OTHER in uids
    finally:
        observer.stop()
        second.close()
        st.card.remove()
