"""Every ticket printed exactly once, in issue order (issue 12), as a citizen at the kiosk sees it.

Real parts only: a Loket server (in this process, tests/live.py; PostgreSQL for the lost
answers), the TCP ESC/POS printer simulator, and the kiosk agent, in this process or, for
the kill tests, as a real ``loket agent kiosk`` process killed with SIGKILL. Each test
checks the paper: every number printed exactly once as a complete slip (cut, QR of its
status page) in issue order, a slip cut short reprinted marked "CETAK ULANG / REPRINT",
and no other slip (a slip cut short stays on the roll, uncut).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest
import requests
from sqlalchemy import select

from drivers.printer import PrinterState
from drivers.printer.layout import REPRINT_LABEL
from drivers.printer.tcp_simulator import TcpPrinterSimulator
from drivers.printer.transports import printer_from_uri
from kiosk.agent import KioskAgent
from kiosk.journal import PRINTED, STARTED, PrintJournal
from server.models import Ticket
from server.models.audit import AuditEntry
from server.services.accounts import authenticate_device
from server.services.printing import backlog
from tests.live import serve_demo, wait_for

LOKET = str(Path(sys.executable).parent / "loket")


# -- what the citizen sees -------------------------------------------------------------------------
def is_reprint(slip) -> bool:
    return REPRINT_LABEL in [line.strip() for line in slip.lines]


def assert_paper(sim, issued: list[dict], reprinted: tuple[str, ...] = (), cut_short: tuple[str, ...] = ()) -> None:
    """``issued`` (kiosk answers, in issue order) each printed exactly once as a complete slip
    with its QR, the numbers in ``reprinted`` marked as reprints and no other; the only
    uncut slips are those of ``cut_short``."""
    slips = [t for t in sim.tickets if t.cut]
    assert [s.large for s in slips] == [[i["ticket"]["number"]] for i in issued]
    for slip, answer in zip(slips, issued):
        assert slip.qr == [answer["status_url"]], slip.lines
        assert is_reprint(slip) == (answer["ticket"]["number"] in reprinted), slip.lines
    partial = [t for t in sim.tickets if not t.cut]
    assert [p.large[:1] for p in partial] == [[n] for n in cut_short]
    assert all(p.qr == [] for p in partial)


def job_of(answer: dict) -> dict:
    """The identity of a kiosk answer's print job, as the journal knows it."""
    return {"job_id": answer["print"]["job_id"], "status_url": answer["status_url"]}


def kiosk_post(server, request_id: str | None = None, timeout: float = 15) -> requests.Response:
    body = {"service": "ktp_el", "priority_kind": None}
    if request_id:
        body["request_id"] = request_id
    return requests.post(f"{server.url}/api/v1/offices/{server.office}/tickets", json=body, timeout=timeout,
                         headers={"Authorization": f"Bearer {server.tokens['kiosk']}"})


def issue(server, request_id: str | None = None) -> dict:
    r = kiosk_post(server, request_id or uuid.uuid4().hex)
    assert r.status_code == 201, r.text
    return r.json()


def print_statuses(server) -> dict[str, str | None]:
    with server.db.session() as s:
        return dict(s.execute(select(Ticket.display_number, Ticket.print_status)).all())


def wait_printed(server, issued: list[dict], timeout: float = 30) -> None:
    numbers = [i["ticket"]["number"] for i in issued]
    wait_for(lambda: all(print_statuses(server).get(n) == "printed" for n in numbers), timeout=timeout,
             what=f"{numbers} printed")


def wait_failed(server, answer: dict) -> str:
    number = answer["ticket"]["number"]
    return wait_for(lambda: (print_statuses(server).get(number) or "").startswith("failed")
                    and print_statuses(server)[number], what=f"{number}: failure reported")


# -- agent in this process -------------------------------------------------------------------------
@pytest.fixture
def sim():
    with TcpPrinterSimulator() as endpoint:
        yield endpoint


def start_agent(server, sim, journal: Path) -> KioskAgent:
    agent = KioskAgent(server.url, server.tokens["kiosk"], printer_from_uri(sim.uri, width_mm=80),
                       journal=PrintJournal(journal), poll_s=0.2, status_interval_s=0.5, max_backoff_s=1.0)
    agent.start()
    wait_for(lambda: agent.connected and agent._backlog_sid == agent.sid(), what="agent ready")
    return agent


@pytest.fixture
def kiosk(live_server, sim, tmp_path):
    agent = start_agent(live_server, sim, tmp_path / "journal.jsonl")
    yield SimpleNamespace(server=live_server, sim=sim, agent=agent)
    agent.stop()


def test_paper_runs_out_mid_ticket(kiosk):
    """The roll ends inside A002: its top half stays on the roll uncut; the kiosk shows it on
    screen; A003, taken meanwhile, waits; after the new roll A002 prints again, marked as a
    reprint, then A003."""
    server, sim = kiosk.server, kiosk.sim
    first = issue(server)
    wait_printed(server, [first])
    number_at = sim.tickets[0].raw.index(first["ticket"]["number"].encode())
    sim.paper_out_after(number_at + 20)  # past the number, well before the QR
    second = issue(server)
    assert "ticket not printed whole: kertas habis / paper out" in wait_failed(server, second)
    third = issue(server)
    assert wait_failed(server, third).endswith("paper out")
    assert [t.cut for t in sim.tickets] == [True, False]
    assert kiosk.agent.pending_jobs() == [second["print"]["job_id"], third["print"]["job_id"]]

    sim.set_state(PrinterState.OK)  # staff load a new roll
    wait_printed(server, [second, third])
    time.sleep(1.0)  # a few more polls: nothing else comes out
    assert_paper(sim, [first, second, third], reprinted=("A002",), cut_short=("A002",))
    assert [kiosk.agent.journal.state(job_of(i)) for i in (first, second, third)] == [PRINTED] * 3


def test_power_lost_mid_ticket(kiosk):
    """The printer loses power 200 bytes into A002 (no confirmation comes): when it answers
    again A002 is printed again, marked; nothing is reported printed without the paper."""
    server, sim = kiosk.server, kiosk.sim
    first = issue(server)
    wait_printed(server, [first])
    sim.die_after(6 + 200)  # the status queries, then 200 bytes of the ticket
    second = issue(server)
    wait_printed(server, [second])
    third = issue(server)
    wait_printed(server, [third])
    time.sleep(1.0)
    assert_paper(sim, [first, second, third], reprinted=("A002",))
    with server.db.session() as s:
        results = [e.data for e in s.scalars(select(AuditEntry).where(AuditEntry.action == "ticket.print_result",
                                                                      AuditEntry.entity_id == second["ticket"]["id"])
                                             .order_by(AuditEntry.id))]
    assert [r["ok"] for r in results] == [False, True] and "tcp 127.0.0.1" in results[0]["error"]
    assert any(why in results[0]["error"] for why in ("no confirmation", "ticket not printed whole"))


# -- agent as a real process ------------------------------------------------------------------------
class AgentProcess:
    """``loket agent kiosk`` against ``server`` and ``sim`` with its journal in ``folder``."""

    def __init__(self, server, sim, folder: Path) -> None:
        self.server, self.sim, self.folder = server, sim, folder
        self.journal = folder / "kiosk-journal.jsonl"
        self.runs = 0
        self.proc: subprocess.Popen | None = None

    @property
    def log(self) -> Path:
        return self.folder / f"agent-{self.runs}.log"

    def start(self) -> "AgentProcess":
        self.runs += 1
        with open(self.log, "wb") as err:
            self.proc = subprocess.Popen(
                [LOKET, "agent", "kiosk", "--server", self.server.url, "--printer", f"{self.sim.uri}?status_timeout=0.5",
                 "--journal", str(self.journal), "--poll", "0.2", "--status-interval", "0.5"],
                stdout=subprocess.DEVNULL, stderr=err, start_new_session=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1", "LOKET_DEVICE_TOKEN": self.server.tokens["kiosk"]})
        return self

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_log(self, needle: str, timeout: float = 30, interval: float = 0.02) -> None:
        wait_for(lambda: needle in self.text() or self.proc.poll() is not None, timeout=timeout, interval=interval,
                 what=f"agent log: {needle}")
        assert self.proc.poll() is None, self.text()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


@pytest.fixture
def agent_proc(live_server, sim, tmp_path):
    proc = AgentProcess(live_server, sim, tmp_path)
    yield proc
    proc.kill()


def test_agent_killed_right_after_the_cut(agent_proc):
    """SIGKILL the moment the printer has A002's cut (before it can confirm): the journal
    says "started"; restarted with the printer fine, the agent takes A002 as printed and
    reports it, without a second slip."""
    server, sim = agent_proc.server, agent_proc.sim
    agent_proc.start().wait_log("print backlog merged")
    first = issue(server)
    wait_printed(server, [first])
    killed = threading.Event()

    def kill_at_cut(_ticket) -> None:
        if not killed.is_set():
            killed.set()
            os.killpg(agent_proc.proc.pid, signal.SIGKILL)  # before the status reply goes out

    sim.stream.on_cut = kill_at_cut
    second = issue(server)
    wait_for(killed.is_set, what="the cut of A002")
    agent_proc.proc.wait(10)
    sim.stream.on_cut = None
    assert [t.large for t in sim.tickets] == [["A001"], ["A002"]]
    assert PrintJournal(agent_proc.journal).state(job_of(second)) == STARTED
    assert print_statuses(server)["A002"] == "queued"  # the result never went out

    agent_proc.start().wait_log("print backlog merged")
    assert "taken as printed" in agent_proc.text()
    wait_printed(server, [second])
    third = issue(server)
    wait_printed(server, [third])
    time.sleep(1.0)
    assert_paper(sim, [first, second, third])


def test_restart_with_a_backlog_while_tickets_are_taken(agent_proc):
    """The agent is down while A002-A005 are taken; it restarts while kiosk requests keep
    coming, several at once (one burst as it starts, one the moment it connects): the
    backlog prints first and every number comes out once, in issue order."""
    server, sim = agent_proc.server, agent_proc.sim
    agent_proc.start().wait_log("print backlog merged")
    issued = [issue(server)]
    wait_printed(server, issued)
    agent_proc.kill()
    issued += [issue(server) for _ in range(4)]  # the backlog: nobody prints them now

    def burst(n: int) -> list[dict]:
        gate = threading.Barrier(n)

        def one(_):
            gate.wait()
            return issue(server)

        with ThreadPoolExecutor(n) as pool:
            return list(pool.map(one, range(n)))

    agent_proc.start()
    issued += burst(4)  # while the agent process starts
    agent_proc.wait_log("connected to", interval=0.005)
    issued += burst(6)  # racing its backlog request
    issued += burst(3)
    issued.sort(key=lambda a: a["ticket"]["number"])  # one service: issue order is number order
    assert [a["ticket"]["number"] for a in issued] == [f"A{n:03d}" for n in range(1, 19)]
    wait_printed(server, issued, timeout=60)
    time.sleep(1.0)
    assert_paper(sim, issued)
    assert "print backlog merged" in agent_proc.text()


# -- PostgreSQL: pushes before the backlog, a kiosk retry after a lost answer ----------------------
@pytest.fixture
def pg_kiosk(pg_url, sim, tmp_path):
    with serve_demo(pg_url, tmp_path) as server:
        agent = start_agent(server, sim, tmp_path / "journal.jsonl")
        dsn = pg_url.replace("postgresql+psycopg://", "postgresql://")
        yield SimpleNamespace(server=server, sim=sim, agent=agent, dsn=dsn)
        agent.stop()


def _blocked_issue(admin) -> int | None:
    """The backend of a ticket being issued (it holds its new ticket row) waiting on a lock."""
    row = admin.execute(
        "SELECT a.pid FROM pg_stat_activity a WHERE a.datname = current_database() AND a.wait_event_type = 'Lock' "
        "AND EXISTS (SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE l.pid = a.pid "
        "AND c.relname = 'tickets' AND l.mode = 'RowExclusiveLock' AND l.granted)").fetchone()
    return row[0] if row else None


def test_kiosk_retry_after_a_lost_answer(pg_kiosk):
    """Two ways the kiosk loses the answer to its tap, then retries with the same request_id:

    1. client timeout: the server is slow (its audit insert waits on a table lock) and the
       kiosk gives up; the server then commits the ticket and its job. The retry answers
       the same ticket and job (200, repeated): one slip.
    2. database blip: the server's connection is terminated (pg_terminate_backend) after it
       took the number and inserted the ticket, before the commit: nothing of it stays
       (503); the retry issues the ticket with that same number and it prints once.
    """
    server, sim = pg_kiosk.server, pg_kiosk.sim
    with psycopg.connect(pg_kiosk.dsn, autocommit=True) as admin, psycopg.connect(pg_kiosk.dsn) as locker:
        # 1. the answer lost to a client timeout
        locker.execute("LOCK TABLE audit_log IN SHARE MODE")
        with pytest.raises(requests.exceptions.ReadTimeout):
            kiosk_post(server, "tap-timeout", timeout=1.0)
        wait_for(lambda: _blocked_issue(admin), what="the issue waiting on the lock")
        locker.rollback()  # the server goes on and commits: nobody hears the answer
        wait_for(lambda: "A001" in print_statuses(server), what="the lost answer's ticket committed")
        again = kiosk_post(server, "tap-timeout")
        assert again.status_code == 200 and again.json()["repeated"] is True, again.text
        first = again.json()
        assert first["ticket"]["number"] == "A001" and first["print"]["job_id"] == f"t{first['ticket']['id']}-1"
        wait_printed(server, [first])

        # 2. the answer lost to a database blip
        locker.execute("LOCK TABLE audit_log IN SHARE MODE")
        answers = []
        tap = threading.Thread(target=lambda: answers.append(kiosk_post(server, "tap-blip", timeout=30)))
        tap.start()
        pid = wait_for(lambda: _blocked_issue(admin), what="the issue waiting on the lock")
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        tap.join(30)
        locker.rollback()
        [lost] = answers
        assert lost.status_code == 503 and lost.json()["error"] == "database_unavailable", lost.text
        assert "A002" not in print_statuses(server)  # nothing of it stayed
        retry = kiosk_post(server, "tap-blip")
        assert retry.status_code == 201 and retry.json()["repeated"] is False, retry.text
        second = retry.json()
        assert second["ticket"]["number"] == "A002" and second["print"]["job_id"] == f"t{second['ticket']['id']}-1"
        wait_printed(server, [second])
    time.sleep(1.0)
    assert_paper(sim, [first, second])
    assert sorted(print_statuses(server)) == ["A001", "A002"]


def test_pushes_before_the_backlog_wait_for_it(pg_kiosk):
    """The agent reconnects after A001-A005 were taken while it was away; its backlog answer
    is slow (the server's query waits on a table lock) and meanwhile A005, A004 and A002 are
    pushed to it: it holds them (nothing prints), then prints the backlog and the pushes
    merged, once each, in issue order."""
    server, sim, agent = pg_kiosk.server, pg_kiosk.sim, pg_kiosk.agent
    server.stop()  # the agent loses the server
    wait_for(lambda: not agent.connected, what="agent disconnected")
    client = server.app.test_client()  # the kiosk's requests still reach the app
    answers = []
    for n in range(5):
        r = client.post(f"/api/v1/offices/{server.office}/tickets", json={"service": "ktp_el", "request_id": f"b{n}"},
                        headers={"Authorization": f"Bearer {server.tokens['kiosk']}"})
        assert r.status_code == 201, r.get_data(as_text=True)
        answers.append(r.get_json())
    with server.db.session() as s:
        device = authenticate_device(s, server.tokens["kiosk"])
        device_id = device.id
        jobs = backlog(s, device_id, server.url)
    assert [j["number"] for j in jobs] == [f"A00{n}" for n in range(1, 6)]
    assert [j["order"] for j in jobs] == sorted(j["order"] for j in jobs)

    with psycopg.connect(pg_kiosk.dsn) as locker:
        locker.execute("LOCK TABLE audit_log IN ACCESS EXCLUSIVE MODE")  # the backlog query waits
        server.start()
        wait_for(lambda: agent.connected, what="agent reconnected")
        socketio = server.app.extensions["loket"].socketio
        for job in (jobs[4], jobs[3], jobs[1]):  # pushed, newest first, before the backlog answer
            socketio.emit("print_job", job, to=f"d{device_id}", namespace="/agents")
        wait_for(lambda: agent.held_jobs() == 3, what="pushes held")
        time.sleep(0.5)
        assert sim.tickets == [] and agent.pending_jobs() == []
    wait_printed(server, answers)
    time.sleep(1.0)
    for answer in answers:  # the status URL printed is the agent's server URL
        answer["status_url"] = answer["status_url"].replace("http://localhost", server.url)
    assert_paper(sim, answers)
