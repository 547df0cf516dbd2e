"""Replay one office day against a running Loket server, through its public API only.

Set-up (as the admin): a fresh office from the demo catalog (code ``SIM<seed>-<suffix>``,
open 00:00-23:59) with ``counters`` counters shared out by expected load
(:func:`model.allocate_counters`), a kiosk and a display device, one front-office login per
counter. Then, on a simulated clock running ``speed`` times faster than real time (real
seconds = simulated seconds / speed), three kiosk threads issue the pre-drawn citizens'
tickets at their arrival times and one thread per officer runs the counter loop:
call-next (finishing the previous ticket) → the citizen walks 30-90 s → start → serve →
repeat; citizens who left are skipped (the catalog's ``skip_limit`` = 2 makes the second
skip a no-show; when the queue is empty the officer calls skipped numbers again). A display
client on the websocket follows the TV page's logic (``simulate.tv``) and counts the calls
it shows and speaks.

Ends when every citizen is served or no-show, or at 16:00 simulated; prints the day report
with times converted back to simulated minutes (server seconds × speed / 60).
"""
from __future__ import annotations

import collections
import secrets
import threading
import time
import tomllib

import click
import requests
import socketio
from tqdm import tqdm

from ..services.catalog import DEMO_CATALOG
from . import model
from .client import Api, Display
from .report import format_report, scale_report

NO_SHOW_GRACE_S = 120.0  # simulated seconds an officer waits for a called citizen before skipping
IDLE_S = 60.0            # simulated seconds an officer waits after losing a ticket to another counter
POLL_S = 1800.0          # simulated seconds between safety-net call-next polls of an idle officer
SKIP_LIMIT = 2           # skips that make a ticket no-show (demo catalog [office.queue])
KIOSKS = 3               # kiosk machines in the lobby (threads sharing one kiosk device token)


class Simulation:
    """One simulated day (module docstring): :meth:`setup`, then :meth:`play`."""

    def __init__(self, base: str, tickets: int, counters: int, speed: float, seed: int) -> None:
        if speed <= 0 or counters < 1 or tickets < 0:
            raise click.ClickException("speed must be > 0, counters >= 1 and tickets >= 0")
        self.base, self.speed, self.seed = base.rstrip("/"), speed, seed
        self.ntickets, self.ncounters = tickets, counters
        self.stop = threading.Event()
        self.cond = threading.Condition()
        self.by_ticket: dict[int, model.Citizen] = {}
        self.skipped: dict[int, tuple[str, str]] = {}  # ticket id -> (number, service): to call again
        self.skips: dict[int, int] = {}  # ticket id -> times skipped
        # tickets issued and not yet called, per service (minus reservations of idle officers)
        self.pending: dict[str, int] = collections.defaultdict(int)
        self.at_counter: set[int] = set()
        self.issued = self.served = self.no_show = self.calls_made = 0
        self.kiosk_lag_min = 0.0
        self.kiosks_done = 0
        self.errors: list[str] = []
        self.day: str | None = None
        self.t0 = 0.0

    # -- simulated clock ------------------------------------------------------------
    def now_min(self) -> float:
        """Simulated minutes after midnight."""
        return model.DAY_OPEN_MIN + (time.monotonic() - self.t0) * self.speed / 60.0

    def wait_sim(self, seconds: float) -> bool:
        """Sleep ``seconds`` simulated (seconds / speed real); False when the day is stopped."""
        return not self.stop.wait(max(0.0, seconds) / self.speed)

    # -- set-up -----------------------------------------------------------------------
    def setup(self, user: str, password: str) -> None:
        """Create the office, devices and officers; connect the display; open counters."""
        self.admin = Api(self.base)
        self.admin.login(user, password)
        catalog = tomllib.loads(DEMO_CATALOG.read_text(encoding="utf-8"))
        standard = {s["code"]: float(s.get("counter_minutes", 10)) for s in catalog["services"]}
        self.codes = {s["letter"]: s["code"] for s in catalog["services"]}
        plan = model.allocate_counters(self.ncounters, standard)
        catalog["counters"] = [{"number": i + 1, "services": svc} for i, svc in enumerate(plan)]
        self.code = f"SIM{self.seed}-{secrets.token_hex(3).upper()}"
        overrides = {"code": self.code, "opening_time": "00:00", "closing_time": "23:59"}
        self.admin.call("POST", "/admin/offices", {"catalog": catalog, "overrides": overrides})
        tokens = {kind: self.admin.call("POST", f"/admin/offices/{self.code}/devices",
                                        {"kind": kind, "name": f"Simulasi {kind}"})["token"]
                  for kind in ("kiosk", "display")}
        self.kiosk_token = tokens["kiosk"]
        ids = {c["number"]: c["id"] for c in self.admin.call("GET", f"/offices/{self.code}/counters")["counters"]}
        self.officers = []
        for i, services in enumerate(plan, start=1):
            username, pw = f"{self.code.lower()}-fo{i}", secrets.token_urlsafe(12)
            self.admin.call("POST", "/admin/staff", {"username": username, "password": pw, "role": "front_office",
                                                     "full_name": f"Petugas Simulasi {i}", "office": self.code})
            api = Api(self.base)
            api.login(username, pw)
            self.officers.append((api, ids[i], set(services)))
        self.citizens = model.generate_day(self.seed, self.ntickets, standard)
        try:
            self.display = Display(self.base, tokens["display"])
        except (socketio.exceptions.SocketIOError, TimeoutError) as exc:
            raise click.ClickException(f"display socket could not connect: {exc}") from exc
        for api, counter_id, _services in self.officers:
            api.call("POST", f"/counters/{counter_id}/open")

    # -- actors -----------------------------------------------------------------------
    def _guard(self, fn, *args) -> None:
        try:
            fn(*args)
        except (click.ClickException, requests.RequestException) as exc:
            self.errors.append(exc.format_message() if isinstance(exc, click.ClickException) else str(exc))
            self.halt()

    def halt(self) -> None:
        """Stop every actor now (idle officers are woken)."""
        self.stop.set()
        with self.cond:
            self.cond.notify_all()

    def kiosk_loop(self, which: int) -> None:
        """Kiosk ``which`` issues every KIOSKS-th citizen's ticket at its arrival time."""
        kiosk = Api(self.base, self.kiosk_token)
        for c in self.citizens[which::KIOSKS]:
            if not self.wait_sim((c.arrival_min - self.now_min()) * 60):
                break
            t = kiosk.call("POST", f"/offices/{self.code}/tickets",
                           {"service": c.service, "priority_kind": c.priority_kind})["ticket"]
            self.kiosk_lag_min = max(self.kiosk_lag_min, self.now_min() - c.arrival_min)
            with self.cond:
                self.day = self.day or t["day"]
                self.by_ticket[t["id"]] = c
                self.issued += 1
                self.pending[c.service] += 1
                self.cond.notify_all()
        with self.cond:
            self.kiosks_done += 1

    def _called(self, ticket: dict, claimed: str | None) -> model.Citizen:
        """Book a call the server answered; ``claimed``: the service an idle officer had
        reserved a pending ticket of (given back: the ticket actually called is counted)."""
        with self.cond:  # the kiosk may not have read its answer yet
            if not self.cond.wait_for(lambda: ticket["id"] in self.by_ticket, timeout=30):
                raise click.ClickException(f"ticket {ticket['number']} was called but never issued by the simulation")
            citizen = self.by_ticket[ticket["id"]]
            if claimed is not None:
                self.pending[claimed] += 1
            if ticket["id"] not in self.skips:  # first call: it leaves the pending queue
                self.pending[citizen.service] -= 1
            self.skipped.pop(ticket["id"], None)
            self.at_counter.add(ticket["id"])
            self.calls_made += 1
            self.cond.notify_all()
            return citizen

    def _done(self, ticket_id: int, *, no_show: bool = False) -> None:
        with self.cond:
            self.at_counter.discard(ticket_id)
            if no_show:
                self.no_show += 1
            else:
                self.served += 1

    def _has_work(self, services: set[str]) -> bool:
        with self.cond:
            return any(self.pending[s] > 0 for s in services)

    def _wait_for_work(self, services: set[str]) -> tuple[str, str | None] | None:
        """Block until a ticket for these services is known (the console shows the queue
        live). Returns ("pending", service) with one ticket reserved, ("skipped", number)
        for a skipped ticket to call again, ("poll", None) after POLL_S simulated seconds
        (a safety net), or None when the day stops."""
        deadline = time.monotonic() + POLL_S / self.speed
        with self.cond:
            while not self.stop.is_set():
                for s in services:
                    if self.pending[s] > 0:
                        self.pending[s] -= 1
                        return "pending", s
                for tid, (number, service) in self.skipped.items():
                    if service in services:
                        del self.skipped[tid]
                        return "skipped", number
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return "poll", None
                self.cond.wait(remaining)
        return None

    def officer_loop(self, api: Api, counter_id: int, services: set[str]) -> None:
        """One counter's officer: call, wait for the citizen, serve, skip the absent."""
        path, serving = f"/counters/{counter_id}", None
        while not self.stop.is_set() and self.now_min() < model.DAY_CLOSE_MIN:
            claimed = None
            if serving is not None and self._has_work(services):
                answer = api.call("POST", f"{path}/call-next", {"finish_current": True}, allow=(404,))
                if answer is None:
                    api.call("POST", f"{path}/finish")
                self._done(serving)
                serving = None
            else:
                if serving is not None:
                    api.call("POST", f"{path}/finish")
                    self._done(serving)
                    serving = None
                work = self._wait_for_work(services)
                if work is None:
                    break
                if work[0] == "skipped":  # 404/409: another counter called it meanwhile
                    answer = api.call("POST", f"{path}/call", {"number": work[1]}, allow=(404, 409))
                else:
                    claimed = work[1]
                    answer = api.call("POST", f"{path}/call-next", {"finish_current": False}, allow=(404,))
                if answer is None and claimed is not None:
                    with self.cond:  # another counter took it; its answer is on the way
                        self.pending[claimed] += 1
                        self.cond.wait(IDLE_S / self.speed)
            if answer is None:
                continue
            ticket = answer["ticket"]
            citizen = self._called(ticket, claimed)
            if citizen.no_show:
                self.wait_sim(NO_SHOW_GRACE_S)
                api.call("POST", f"{path}/skip")
                with self.cond:
                    self.skips[ticket["id"]] = self.skips.get(ticket["id"], 0) + 1
                    self.at_counter.discard(ticket["id"])
                    if self.skips[ticket["id"]] < SKIP_LIMIT:
                        self.skipped[ticket["id"]] = (ticket["number"], citizen.service)
                        self.cond.notify_all()
                        continue
                self._done(ticket["id"], no_show=True)
                continue
            self.wait_sim(citizen.walk_s)
            api.call("POST", f"{path}/start")
            self.wait_sim(citizen.service_min * 60)
            serving = ticket["id"]
        if serving is not None:
            api.call("POST", f"{path}/finish")
            self._done(serving)
        api.call("POST", f"{path}/close", allow=(409,))

    # -- the day ----------------------------------------------------------------------
    def drained(self) -> bool:
        """Every citizen issued and finished (served or no-show)."""
        with self.cond:
            return self.kiosks_done == KIOSKS and self.served + self.no_show >= self.ntickets

    def play(self) -> str:
        """Run the day; returns why it ended: "drained", "closing" or "error"."""
        self.t0 = time.monotonic()
        threads = [threading.Thread(target=self._guard, args=(self.kiosk_loop, k), daemon=True) for k in range(KIOSKS)]
        threads += [threading.Thread(target=self._guard, args=(self.officer_loop, *o), daemon=True)
                    for o in self.officers]
        for t in threads:
            t.start()
        total = model.DAY_CLOSE_MIN - model.DAY_OPEN_MIN
        ended = "closing"
        with tqdm(total=total, unit="min", desc="simulated day", mininterval=0.5, leave=True) as bar:
            while not self.stop.wait(0.1):
                now = min(self.now_min(), model.DAY_CLOSE_MIN)
                bar.update(int(now - model.DAY_OPEN_MIN) - bar.n)
                with self.cond:
                    waiting = self.issued - self.served - self.no_show - len(self.at_counter)
                    bar.set_postfix(clock=model.clock(now), issued=self.issued, waiting=waiting,
                                    served=self.served, no_show=self.no_show, refresh=False)
                if self.drained():
                    ended = "drained"
                    break
                if now >= model.DAY_CLOSE_MIN:
                    break
        self.end_min = min(self.now_min(), model.DAY_CLOSE_MIN)
        self.halt()
        for t in threads:
            t.join(timeout=60)
        return "error" if self.errors else ended


def run_simulation(server_url: str, *, tickets: int = 1500, counters: int = 30, speed: float = 600.0,
                   seed: int = 1, user: str = "sysadmin", password: str = "demo1234") -> dict:
    """Simulate one office day on the server at ``server_url`` and print its day report.

    ``tickets``: citizens of the day; ``counters``: counters (one officer each); ``speed``:
    simulated seconds per real second; ``seed``: draws of :func:`model.generate_day`.
    Returns the day report with times in simulated minutes plus the display's figures.
    Raises click.ClickException (one line) on server errors or when it cannot be reached.
    """
    sim = Simulation(server_url, tickets, counters, speed, seed)
    started = time.monotonic()
    try:
        sim.setup(user, password)
        ended = sim.play()
        display = sim.display.finish(sim.calls_made)
        if sim.errors:
            raise click.ClickException(f"simulation stopped: {sim.errors[0]}")
        raw = sim.admin.call("GET", f"/offices/{sim.code}/reports/day" + (f"?date={sim.day}" if sim.day else ""))
    except requests.RequestException as exc:
        raise click.ClickException(f"cannot talk to the Loket server at {server_url}: {type(exc).__name__}: "
                                   f"{str(exc).splitlines()[0][:160]}") from None
    except socketio.exceptions.SocketIOError as exc:
        raise click.ClickException(f"display socket failed: {type(exc).__name__}: {exc}") from None
    finally:
        sim.stop.set()
        if getattr(sim, "display", None) is not None and sim.display.sio.connected:
            sim.display.sio.disconnect()
    report = scale_report(raw, speed, sim.codes)
    report["display"] = display
    report["simulation"] = {
        "seed": seed, "tickets": tickets, "counters": counters, "speed": speed, "ended": ended,
        "end_clock": model.clock(sim.end_min), "real_seconds": round(time.monotonic() - started, 1),
        "kiosk_lag_max_min": round(sim.kiosk_lag_min, 2), "calls_made": sim.calls_made,
        "counter_services": [sorted(s) for _a, _c, s in sim.officers],
    }
    click.echo(format_report(report))
    return report
