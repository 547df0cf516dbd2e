"""The print journal on disk (kiosk.journal): restart, compaction, a torn last line, and the
restart policy of the kiosk agent for a job left "started" (on a real TCP printer simulator)."""
from __future__ import annotations

import json

import pytest

from drivers.printer import PrinterState
from drivers.printer.layout import REPRINT_LABEL
from drivers.printer.tcp_simulator import TcpPrinterSimulator
from drivers.printer.transports import printer_from_uri
from kiosk.agent import KioskAgent
from kiosk.journal import DROPPED, INTERRUPTED, PRINTED, STARTED, UNSENT, PrintJournal, default_path
from tests.live import wait_for


def job(n: int, public_id: str | None = None) -> dict:
    return {"job_id": f"t{n}-1", "ticket_id": n, "kind": "ticket", "number": f"A{n:03d}",
            "issued_at": "2026-11-23T01:00:00+00:00", "people_ahead": 0, "estimated_wait_s": None,
            "status_url": f"http://127.0.0.1:8080/t/{public_id or f'pub{n}'}", "order": n}


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_states_survive_a_restart(tmp_path):
    path = tmp_path / "state" / "journal.jsonl"  # the folder is created
    journal = PrintJournal(path)
    journal.started(job(1))
    journal.printed(job(1))
    journal.started(job(2))
    journal.unsent(job(2))
    journal.started(job(3))
    journal.interrupted(dict(job(3), reprint=True))
    journal.started(job(4))
    journal.dropped(job(5), "bad job")
    journal.close()

    again = PrintJournal(path)
    assert [again.state(job(n)) for n in range(1, 7)] == [PRINTED, UNSENT, INTERRUPTED, STARTED, DROPPED, None]
    assert again.unfinished() == [(INTERRUPTED, dict(job(3), reprint=True)), (STARTED, job(4))]
    assert again.entry(job(5)).why == "bad job"
    assert [r["s"] for r in lines(path)] == ["started", "printed", "started", "unsent", "started", "interrupted",
                                            "started", "dropped"]
    assert lines(path)[0]["job"] == job(1) and "job" not in lines(path)[1]


def test_a_job_id_of_another_ticket_is_another_job(tmp_path):
    """A server whose database was recreated gives job ids again: the ticket's public id
    (the status URL's last segment) tells them apart; the host in the URL does not."""
    journal = PrintJournal(tmp_path / "j.jsonl")
    journal.printed(job(1, "abc"))
    assert journal.state(job(1, "xyz")) is None
    assert journal.state(dict(job(1, "abc"), status_url="https://loket.example.go.id/t/abc")) == PRINTED


def test_torn_last_line_is_cut_off(tmp_path):
    path = tmp_path / "j.jsonl"
    journal = PrintJournal(path)
    journal.started(job(1))
    journal.close()
    whole = path.read_bytes()
    with open(path, "ab") as f:  # killed in the middle of writing "printed"
        f.write(b'{"id":"t1-1","fp":"pub1","s":"prin')
    again = PrintJournal(path)
    assert again.state(job(1)) == STARTED
    assert path.read_bytes() == whole  # the torn bytes are gone, the next line starts clean
    again.printed(job(1))
    assert [r["s"] for r in lines(path)] == ["started", "printed"]


def test_a_damaged_line_in_the_middle_is_skipped(tmp_path):
    path = tmp_path / "j.jsonl"
    journal = PrintJournal(path)
    journal.printed(job(1))
    journal.close()
    with open(path, "ab") as f:
        f.write(b"\x00\x00garbage\n")
    PrintJournal(path).printed(job(2))
    again = PrintJournal(path)
    assert again.state(job(1)) == again.state(job(2)) == PRINTED


def test_compaction_keeps_the_last_finished_and_every_unfinished(tmp_path):
    path = tmp_path / "j.jsonl"
    journal = PrintJournal(path, keep=5)
    journal.started(job(100))  # never finished: kept however old
    for n in range(1, 21):
        journal.started(job(n))
        journal.printed(job(n))
    assert len(lines(path)) <= 2 * 5 + 1
    assert journal.state(job(100)) == STARTED and journal.state(job(20)) == PRINTED
    assert journal.state(job(1)) is None
    reopened = PrintJournal(path, keep=5)
    assert reopened.state(job(100)) == STARTED and reopened.unfinished() == [(STARTED, job(100))]
    assert [reopened.state(job(n)) for n in range(16, 21)] == [PRINTED] * 5
    assert not (tmp_path / "j.jsonl.tmp").exists()


def test_memory_journal_is_bounded_too():
    journal = PrintJournal(None, keep=3)
    for n in range(1, 50):
        journal.printed(job(n))
    assert len(journal) <= 6 and journal.state(job(49)) == PRINTED and journal.path is None


def test_default_path_per_device(tmp_path, monkeypatch):
    monkeypatch.setenv("LOKET_DATA_DIR", str(tmp_path))
    first, second = default_path("lkd_token-one"), default_path("lkd_token-two")
    assert first.parent == tmp_path and first != second and "token" not in first.name
    monkeypatch.delenv("LOKET_DATA_DIR")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert default_path("lkd_token-one").parent == tmp_path / "state" / "loket"
    assert default_path("lkd_token-one", str(tmp_path / "demo")).parent == tmp_path / "demo"


# -- the agent's restart policy, on a real TCP printer (no server needed) ---------------------
@pytest.mark.parametrize("printer_state,expected", [(PrinterState.OK, "taken as printed"),
                                                    (PrinterState.PAPER_OUT, "reprinted")])
def test_a_job_left_started_at_restart(tmp_path, printer_state, expected):
    """Printable at restart: taken as printed (no duplicate in the tray, reported printed).
    Not printable (it may have stopped mid-slip): reprinted, marked, once it is back."""
    path = tmp_path / "j.jsonl"
    PrintJournal(path).started(job(7))
    with TcpPrinterSimulator(state=printer_state) as sim:
        agent = KioskAgent("http://127.0.0.1:9", "lkd_x", printer_from_uri(sim.uri), journal=PrintJournal(path),
                           poll_s=0.1, max_backoff_s=0.5)
        agent.start()  # no server: the result waits in the outbox
        try:
            if expected == "taken as printed":
                assert agent.journal.entry(job(7)).state == PRINTED and agent.journal.entry(job(7)).assumed
                assert agent.pending_jobs() == [] and agent.pending_reports() == 1
                assert sim.tickets == []
            else:
                assert agent.journal.state(job(7)) == INTERRUPTED and agent.pending_jobs() == ["t7-1"]
                sim.set_state(PrinterState.OK)
                [slip] = sim.wait_for_tickets(1)
                assert slip.cut and slip.large == ["A007"] and REPRINT_LABEL in [x.strip() for x in slip.lines]
                assert slip.qr == [job(7)["status_url"]]
                wait_for(lambda: agent.journal.state(job(7)) == PRINTED, what="journaled printed")
        finally:
            agent.stop()
    assert PrintJournal(path).unfinished() == []


def test_re_reported_jobs_are_remembered_within_the_journals_bound_and_never_printed_again():
    """10 000 finished jobs each listed in two backlogs: each result is reported again once,
    nothing prints again, and the agent remembers at most ``journal.keep`` re-reported ids."""
    from drivers.printer.simulator import SimulatedPrinter

    journal = PrintJournal(None, keep=50)
    printer = SimulatedPrinter()
    agent = KioskAgent("http://127.0.0.1:9", "lkd_x", printer, journal=journal)  # never started: no server
    reports: list[str] = []

    def send(event, payload, on_ack=None):  # the server, acking each result at once
        assert event == "print_result" and payload["ok"] is True
        reports.append(payload["job_id"])
        on_ack({"ok": True})

    agent.send = send
    for n in range(10_000):
        journal.started(job(n))
        journal.printed(job(n))
        with agent._jobs_lock:
            agent._take(dict(job(n)), pulled=True)  # listed in a backlog: its result reported again
            agent._take(dict(job(n)), pulled=True)  # and in the next one: not again
        assert len(agent._rereported) <= journal.keep
    assert reports == [f"t{n}-1" for n in range(10_000)]
    assert len(agent._rereported) == journal.keep == 50 and len(journal) <= 2 * journal.keep
    with agent._jobs_lock:  # the last ones, listed again: neither reported nor queued
        for n in range(10_000 - journal.keep, 10_000):
            agent._take(dict(job(n)), pulled=True)
    assert len(reports) == 10_000 and agent.pending_jobs() == [] and agent.pending_reports() == 0
    assert printer.printed == []
