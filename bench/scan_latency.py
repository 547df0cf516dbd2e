"""Drive-Thru scan → status on the station screen latency (issue 4: target p99 ≤ 200 ms with
the camera at 1280×720).

    python bench/scan_latency.py [--scans 40] [--fps 5] [--json]

Set-up: a Loket server (tests.live.serve_demo: the real app, SQLite, threading Socket.IO,
Werkzeug in a thread of this process) with the demo office; ``--scans`` KK applications
driven to *ready* through the REST API; the pickup officer's station page
``/pickup/<id>`` in headless Chromium (Debian chromium, signed in as ``ambil``); a
:class:`pickup.agent.PickupAgent` whose camera is a :class:`SimulatedCamera` playing an FFV1
video file at 1280×720: each resi QR (its signed payload, drawn by segno through
``drivers.qr.code_in_view``) held up for 2 frames followed by an empty frame, played at
``--fps``. The first ``--warmup`` scans (connections, caches) are reported apart.

Measured per scan, all on this machine's wall clock (``time.time()`` in Python and
``Date.now()`` in the page, both the system clock, millisecond resolution):

- **read → shown** (the figure): from ``camera.read()`` returning the frame in which the
  agent found the code, to the station page having rendered the look-up answer
  (``LOKET_PICKUP.shown[].shownAt``, right after the DOM update);
- read → painted: to the next animation frame after that (``paintedAt``: on screen);
- the parts: read → agent report (decode + dedupe), report → ``scan`` event in the page
  (Socket.IO to the server, audit row, commit, emit to the station room), event → shown
  (``POST /api/v1/pickup/<id>/lookup``: verify, load, audit-free for a ready file,
  answer, render).

The server, the agent and the decoder share this process (and its GIL) with the
measurement, so figures are conservative against a separate agent PC.

Figures (2-CPU development VM, 100 scans + 1 warm-up, zxing-cpp, FFV1 1280×720 at 5 fps):

=========================  ==========================  ==========================
                           quiet (load avg ≈ 1)        busy (load avg ≈ 6: other
                                                       test runs on the machine)
=========================  ==========================  ==========================
read → shown               p50 21 ms, p99 33 ms        p50 38 ms, p99 226 ms
read → painted             p50 23 ms, p99 34 ms        p50 40 ms, p99 228 ms
read → agent report        p50 2.5 ms, p99 3.4 ms      p50 3.0 ms, p99 19.5 ms
report → page scan event   p50 4.8 ms, p99 9.9 ms      p50 10.9 ms, p99 120 ms
page event → shown         p50 14 ms, p99 24 ms        p50 20 ms, p99 200 ms
=========================  ==========================  ==========================

The target (p99 ≤ 200 ms) is met with a wide margin on a quiet machine; on a 2-CPU machine
running three times its capacity the tail (SQLite commits, thread scheduling) passes it.
"""
from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from drivers.qr.simulator import SimulatedCamera, code_in_view, write_video  # noqa: E402
from pickup.agent import PickupAgent  # noqa: E402
from server.migrations import upgrade  # noqa: E402

TARGET_P99_MS = 200.0
SIZE = (1280, 720)
NIK = "1471011205900001"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def figures(values: list[float]) -> dict:
    return {"n": len(values), "p50_ms": round(statistics.median(values), 1), "p99_ms": round(pct(values, 99), 1),
            "max_ms": round(max(values), 1), "mean_ms": round(statistics.fmean(values), 1)}


class TimedCamera(SimulatedCamera):
    """A SimulatedCamera that remembers when each frame was read."""

    last_read_at = 0.0

    def read(self):
        frame = super().read()
        self.last_read_at = time.time()
        return frame


class TimedAgent(PickupAgent):
    """Records, for each reported code, when the frame it was found in was read."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.read_at: dict[str, float] = {}
        self.report_at: dict[str, float] = {}

    def _report(self, code: str, source: str, device: str) -> None:
        self.read_at.setdefault(code, self.camera.last_read_at)
        self.report_at.setdefault(code, time.time())
        super()._report(code, source, device)


def ready_files(server, n: int) -> list[str]:
    """``n`` KK applications driven to ready; their signed resi payloads."""
    fo1 = server.staff("fo1")
    others = {who: server.staff(who) for who in ("kasi", "kabid", "admin")}
    fo1.act(1, "open")
    cid = fo1.counters()[1]["id"]
    payloads = []
    for i in range(n):
        server.issue("kk")
        fo1.act(1, "call-next", finish_current=True)
        fo1.act(1, "start")
        r = fo1.http.post(f"{server.url}/api/v1/counters/{cid}/application", timeout=10, json={
            "nik": NIK, "name": f"Warga Uji {i}", "phone": "081234567890", "confirmed": [0, 1, 2, 3, 4]})
        r.raise_for_status()
        data = r.json()
        app_id = data["application"]["id"]
        for version, officer, extra in ((1, others["kasi"], {}), (2, others["kabid"], {}), (3, others["admin"], {}),
                                        (4, fo1, {"shelf_location": f"RAK-{i:03d}"})):
            officer.http.post(f"{server.url}/api/v1/applications/{app_id}/approve", timeout=10,
                              json={"expected_version": version, **extra}).raise_for_status()
        payloads.append(data["resi"]["payload"])
    return payloads


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scans", type=int, default=100)
    parser.add_argument("--fps", type=float, default=5.0, help="video frames played per second (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="first scans not counted (default 1: the first "
                                                                 "scan after start opens connections and caches)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    from playwright.sync_api import sync_playwright
    from sqlalchemy import select

    from server.models import Device, DeviceKind
    from tests.conftest import CHROMIUM, CHROMIUM_ARGS
    from tests.live import serve_demo

    with tempfile.TemporaryDirectory(prefix="loket-scan-bench-") as tmp:
        tmp_path = Path(tmp)
        url = f"sqlite:///{tmp_path / 'loket.db'}"
        upgrade(url)
        with serve_demo(url, tmp_path) as server:
            t0 = time.monotonic()
            payloads = ready_files(server, args.scans)
            print(f"scan_latency: {len(payloads)} ready files in {time.monotonic() - t0:.1f} s", file=sys.stderr)
            frames = []
            for i, payload in enumerate(payloads):
                frames += code_in_view(payload, 2, size=SIZE, before=2 if i == 0 else 0, after=1, seed=100 + i)
            video = tmp_path / "lane.avi"
            codec = write_video(video, frames, fps=args.fps)
            del frames
            with server.db.session() as s:
                device_id = s.scalar(select(Device.id).where(Device.kind == DeviceKind.PICKUP.value,
                                                             Device.active.is_(True)))
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                context = browser.new_context(viewport={"width": 1366, "height": 768})
                page = context.new_page()
                page.goto(f"{server.url}/login")
                page.fill("#username", "ambil")
                page.fill("#password", "demo1234")
                page.click("[data-testid=login-submit]")
                page.wait_for_url(f"{server.url}/")
                page.goto(f"{server.url}/pickup/{device_id}")
                page.wait_for_function("document.body.dataset.joined === '1'", timeout=10000)

                camera = TimedCamera(str(video))
                agent = TimedAgent(server.url, server.tokens["pickup"], camera=camera, fps=args.fps,
                                   health_interval_s=5.0)
                agent.start()
                deadline = time.monotonic() + 30 + len(payloads) * 6 / args.fps
                try:
                    while time.monotonic() < deadline:
                        if page.evaluate("window.LOKET_PICKUP.shown.filter(e => e.paintedAt).length") >= len(payloads):
                            break
                        page.wait_for_timeout(200)
                    shown = page.evaluate("window.LOKET_PICKUP.shown")
                finally:
                    agent.stop()
                    browser.close()

    by_code = {e["code"]: e for e in shown}
    missed = [p for p in payloads if p not in by_code]
    total, painted, decode, transport, lookup = [], [], [], [], []
    warm = {}
    for i, code in enumerate(payloads):
        entry, read = by_code.get(code), agent.read_at.get(code)
        if i < args.warmup and entry is not None and read is not None:
            warm[code] = round(entry["shownAt"] - read * 1000, 1)
    for code, entry in by_code.items():
        if code in warm:
            continue
        read = agent.read_at.get(code)
        if read is None:
            continue
        read_ms = read * 1000
        total.append(entry["shownAt"] - read_ms)
        if entry.get("paintedAt"):
            painted.append(entry["paintedAt"] - read_ms)
        decode.append((agent.report_at[code] - read) * 1000)
        transport.append(entry["eventAt"] - agent.report_at[code] * 1000)
        lookup.append(entry["shownAt"] - entry["eventAt"])
    wrong = [e for e in shown if e["result"] != "ok"]
    result = {
        "camera": f"{SIZE[0]}x{SIZE[1]}", "codec": codec, "scans": len(payloads), "shown": len(by_code),
        "missed": len(missed), "not_ok": len(wrong),
        "read_to_shown": figures(total) if total else None,
        "read_to_painted": figures(painted) if painted else None,
        "parts": {"read_to_report": figures(decode) if decode else None,
                  "report_to_page_event": figures(transport) if transport else None,
                  "page_event_to_shown": figures(lookup) if lookup else None},
        "warmup_read_to_shown_ms": list(warm.values()),
        "target_p99_ms": TARGET_P99_MS,
    }
    result["met"] = bool(total) and result["read_to_shown"]["p99_ms"] <= TARGET_P99_MS and not missed
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"scan -> station screen, camera {result['camera']} ({codec}), {len(by_code)}/{len(payloads)} shown"
              + (f", {len(missed)} missed" if missed else ""))
        for name, fig in (("read -> shown", result["read_to_shown"]), ("read -> painted", result["read_to_painted"]),
                          ("  read -> agent report", result["parts"]["read_to_report"]),
                          ("  report -> page scan event", result["parts"]["report_to_page_event"]),
                          ("  page event -> shown (lookup)", result["parts"]["page_event_to_shown"])):
            if fig:
                print(f"{name:32s} p50 {fig['p50_ms']:7.1f} ms  p99 {fig['p99_ms']:7.1f} ms  max {fig['max_ms']:7.1f} ms")
        print(f"warm-up scans (not counted), read -> shown: {result['warmup_read_to_shown_ms']} ms")
        print(f"target p99 <= {TARGET_P99_MS:.0f} ms: {'met' if result['met'] else 'NOT met'}")
    return 1 if missed or not total else 0  # a missed target is a figure to report, not a failure


if __name__ == "__main__":
    raise SystemExit(main())
