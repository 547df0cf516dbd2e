"""Activation agent against a real Loket server (in this process, threading mode), a private
pcscd with the vpcd driver and the virtual card in its own process."""
from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from tests.support.pcsc_stack import PcscStack
from drivers.smartcard.reader import CARD_REMOVED
from drivers.smartcard.simulator import SimulatedReader
from tests.support.vicc import DEFAULT_ATR, VirtualCard
from activation.agent import ACK_HISTORY, ActivationAgent, main
from server.models import Device, Office
from server.models.audit import AuditEntry
from server.services.accounts import create_device
from server.services.actors import SYSTEM
from tests.live import serve_demo, wait_for

READER = "Loket Station 00 00"
KTP_UID = "04A1B2C3D4E5F6"


@pytest.fixture(scope="module")
def pcsc():
    """A private pcscd: readers 'Loket Station 00 00' and 'Loket Station 00 01'."""
    stack = PcscStack(["Loket Station"]).start()
    yield stack
    stack.close()


@pytest.fixture
def station(pcsc, sqlite_url, tmp_path):
    """A served app with the demo office, an activation station and its agent bound to READER."""
    with serve_demo(sqlite_url, tmp_path, start=False) as server:
        db = server.db
        with db.session() as s:
            office_id = s.scalar(select(Office.id).where(Office.code == "DEMO"))
            device, token = create_device(s, office_id, "activation", "Aktivasi 1", actor=SYSTEM)
            device_id = device.id
        server.start()
        base = server.url
        card = VirtualCard(pcsc.reader(READER).port, uid=KTP_UID).start()
        agent = ActivationAgent(base, token, reader=READER, health_interval_s=1.0, max_backoff_s=1.0,
                                watcher_wait_ms=500)
        agent.start()
        wait_for(lambda: agent.connected, what="agent connected")
        yield SimpleNamespace(app=server.app, db=db, base=base, token=token, device_id=device_id, agent=agent,
                              server=server, card=card, pcsc=pcsc)
        agent.stop()
        card.close()
    if pcsc.proc is None:
        pcsc.start()


def card_acks(st, event: str) -> list[dict]:
    return [a["event"] for a in list(st.agent.acks) if a.get("ok") and a.get("event", {}).get("event") == event]


def card_audits(st) -> list[dict]:
    with st.db.session() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.action == "device.card",
                                                  AuditEntry.entity_id == st.device_id).order_by(AuditEntry.id))
        return [r.data for r in rows]


def reader_health(st) -> dict:
    with st.db.session() as s:
        return (s.get(Device, st.device_id).health or {}).get("card_reader") or {}


def test_insert_and_remove_are_acked_by_the_server(station):
    wait_for(lambda: card_acks(station, "reader_added"), what="reader_added acked")
    wait_for(lambda: reader_health(station).get("state") == "ok", what="health ok on the server")
    assert reader_health(station)["kind"] == "card_reader" and reader_health(station)["detail"] == READER

    station.card.insert()
    [inserted] = wait_for(lambda: card_acks(station, "inserted"), what="inserted acked")
    assert (inserted["reader"], inserted["uid"], inserted["atr"]) == (READER, KTP_UID, DEFAULT_ATR)
    assert inserted["device_id"] == station.device_id
    station.card.remove()
    [removed] = wait_for(lambda: card_acks(station, "removed"), what="removed acked")
    assert (removed["reader"], removed["uid"]) == (READER, KTP_UID)

    audits = card_audits(station)
    assert [a["event"] for a in audits] == ["reader_added", "inserted", "removed"]
    assert audits[1]["uid"] == KTP_UID and audits[1]["atr"] == DEFAULT_ATR
    assert station.agent.pending() == 0
    assert all(a.get("ok") for a in station.agent.acks)


def test_card_event_kept_while_the_server_is_away(station):
    wait_for(lambda: card_acks(station, "reader_added"), what="reader_added acked")
    station.server.stop()
    wait_for(lambda: not station.agent.connected, what="agent disconnected")
    station.card.insert()
    wait_for(lambda: station.agent.pending() == 1, what="inserted queued")
    time.sleep(0.3)
    assert card_acks(station, "inserted") == []
    station.server.start()  # same port: the agent reconnects by itself
    [inserted] = wait_for(lambda: card_acks(station, "inserted"), timeout=15, what="inserted delivered")
    assert inserted["uid"] == KTP_UID and station.agent.pending() == 0


def test_card_pulled_mid_read_is_not_sent_and_shows_in_health(station):
    wait_for(lambda: card_acks(station, "reader_added"), what="reader_added acked")
    station.card.arm_pull()
    station.card.insert()
    station.card.expect("pulled")
    health = wait_for(lambda: (lambda h: h if CARD_REMOVED in h.get("detail", "") else None)(reader_health(station)),
                      what="health detail names the pulled card")
    assert health["state"] == "ok"
    time.sleep(0.8)
    assert [a["event"] for a in card_audits(station)] == ["reader_added"]
    station.card.insert()  # tapped again: read, sent, and the health detail is clean again
    wait_for(lambda: card_acks(station, "inserted"), what="inserted acked")
    wait_for(lambda: reader_health(station).get("detail") == READER, what="health detail cleared")


def test_reader_gone_and_back_reaches_the_server(station):
    station.card.insert()
    wait_for(lambda: card_acks(station, "inserted"), what="inserted acked")
    station.pcsc.stop()
    wait_for(lambda: card_acks(station, "reader_removed"), what="reader_removed acked")
    health = wait_for(lambda: (lambda h: h if h.get("state") == "offline" else None)(reader_health(station)),
                      what="health offline on the server")
    assert "pcscd" in health["detail"]
    with station.db.session() as s:
        device = s.get(Device, station.device_id)
        assert device.unhealthy_since is not None and device.last_error.startswith("card_reader: offline")
    station.pcsc.start()
    wait_for(lambda: len(card_acks(station, "inserted")) == 2, what="card read again after pcscd returned")
    wait_for(lambda: reader_health(station).get("state") == "ok", what="health ok again")
    assert [a["event"] for a in card_audits(station)] == [
        "reader_added", "inserted", "removed", "reader_removed", "reader_added", "inserted"]


def test_main_runs_the_agent_until_stopped(pcsc, station, capsys):
    station.agent.stop()  # the CLI's agent replaces the fixture's
    before = len(card_audits(station))
    stop = threading.Event()
    result = {}
    runner = threading.Thread(target=lambda: result.setdefault("code", main(
        ["--server", station.base, "--token", station.token, "--reader", "station 00 00", "--log-level", "WARNING"],
        stop=stop)))
    runner.start()
    try:
        wait_for(lambda: len(card_audits(station)) > before, what="reader_added from the CLI agent")
        station.card.insert()
        wait_for(lambda: any(a["event"] == "inserted" and a["uid"] == KTP_UID for a in card_audits(station)[before:]),
                 what="inserted from the CLI agent")
    finally:
        stop.set()
        runner.join(15)
    assert result == {"code": 0}
    assert main(["--list-readers"]) == 0
    assert capsys.readouterr().out.split("\n")[:2] == ["Loket Station 00 00", "Loket Station 00 01"]


def test_ack_history_is_bounded():
    """The agent runs for months: it keeps only the server's last ACK_HISTORY answers."""
    agent = ActivationAgent("http://127.0.0.1:9", "token", watcher=SimulatedReader)  # never started
    for n in range(ACK_HISTORY * 3):
        agent._acked({"ok": True, "n": n})  # what the outbox calls with each server answer
    agent._acked("refused")  # a non-dict answer is kept wrapped
    assert len(agent.acks) == ACK_HISTORY
    assert [a["n"] for a in list(agent.acks)[:2]] == [ACK_HISTORY * 2 + 1, ACK_HISTORY * 2 + 2]
    assert agent.acks[-1] == {"answer": "refused"}
