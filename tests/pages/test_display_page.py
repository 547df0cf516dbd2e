"""The waiting-room TV in headless Chromium: big current call, counters, queued speech."""
from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

TV = (1920, 1080)
SPOKEN = "() => LoketDisplay.spoken.map(s => [s.number, s.counter, s.kind])"


def _open(live_server, page_factory, **params):
    page = page_factory(*TV)
    page.goto(live_server.display_url(**params))
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-online", "true")
    # the first full state has arrived: a call made before it came inside that state (spoken
    # when fresh and not spoken before), a call made after it is a live call
    page.wait_for_function("() => LoketDisplay.stream.position !== null")
    return page


def _wait_spoken(page, n, timeout=30000):
    page.wait_for_function(f"() => LoketDisplay.spoken.length >= {n} && LoketDisplay.spoken[{n - 1}].end !== null",
                           timeout=timeout)


@pytest.mark.slow
def test_calls_are_shown_and_spoken_in_order(live_server, page_factory, artifacts):
    fo1, fo2 = live_server.staff("fo1"), live_server.staff("fo2")
    fo1.act(1, "open")
    fo2.act(3, "open")
    fo1.act(1, "pause", reason="istirahat")
    fo1.act(1, "resume")
    live_server.issue("ktp_el")
    live_server.issue("kk")
    live_server.issue("ktp_el")
    page = _open(live_server, page_factory)
    expect(page.get_by_test_id("office-name")).to_contain_text("Kota Demo")
    expect(page.get_by_test_id("current-number")).to_have_text("—")
    expect(page.get_by_test_id("counter-1")).to_contain_text("Tersedia")
    expect(page.get_by_test_id("counter-6")).to_contain_text("Tutup")
    expect(page.get_by_test_id("running-text")).to_contain_text("GRATIS")
    assert page.get_by_test_id("clock").inner_text().count(":") == 2

    # two calls in quick succession: both shown, spoken one after the other
    fo1.act(1, "call-next")   # A001 → loket 1
    fo2.act(3, "call-next")   # B001 → loket 3
    expect(page.get_by_test_id("current-number")).to_have_text("A001")
    expect(page.get_by_test_id("current-counter")).to_have_text("LOKET 1")
    expect(page.get_by_test_id("counter-1")).to_contain_text("A001")
    expect(page.get_by_test_id("counter-3")).to_contain_text("B001")
    _wait_spoken(page, 2)
    assert page.evaluate(SPOKEN) == [["A001", 1, "call"], ["B001", 3, "call"]]
    first, second = page.evaluate("() => LoketDisplay.spoken")
    assert first["result"] == "ended" and first["end"] >= first["start"]
    assert second["start"] >= first["end"], "the second call started before the first ended"
    expect(page.get_by_test_id("current-number")).to_have_text("B001")
    expect(page.get_by_test_id("current-counter")).to_have_text("LOKET 3")
    expect(page.get_by_test_id("last-calls")).to_contain_text("A001")
    expect(page.get_by_test_id("last-calls")).to_contain_text("LOKET 1")
    expect(page.get_by_test_id("counter-3")).to_contain_text("Dipanggil")
    page.wait_for_timeout(2600)  # let the flash animation end before the screenshot
    page.screenshot(path=str(artifacts / "display.png"))

    # a recall is spoken again and marked on screen
    fo1.act(1, "recall")
    _wait_spoken(page, 3)
    assert page.evaluate(SPOKEN)[2] == ["A001", 1, "recall"]
    expect(page.get_by_test_id("current-number")).to_have_text("A001")
    expect(page.get_by_test_id("current-tag")).to_be_visible()
    page.screenshot(path=str(artifacts / "display-recall.png"), animations="disabled")

    # serving and counter states update live
    fo1.act(1, "start")
    expect(page.get_by_test_id("counter-1")).to_contain_text("Dilayani")
    fo2.act(3, "pause", reason="istirahat")
    expect(page.get_by_test_id("counter-3")).to_contain_text("Istirahat")


@pytest.mark.slow
def test_reconnect_replays_missed_calls_and_speaks_each_once(live_server, page_factory):
    fo1 = live_server.staff("fo1")
    fo1.act(1, "open")
    for _ in range(4):
        live_server.issue("ktp_el")
    page = _open(live_server, page_factory)
    fo1.act(1, "call-next")  # A001
    _wait_spoken(page, 1)
    resyncs = page.evaluate("() => LoketDisplay.stream.resyncs")

    # a dropped connection: the stream reconnects and asks for what it missed (nothing)
    page.evaluate("() => LoketDisplay.stream.socket.io.engine.close()")
    page.wait_for_function(f"() => LoketDisplay.stream.resyncs > {resyncs} && LoketDisplay.stream.position !== null")
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-online", "true")
    expect(page.get_by_test_id("resync-count")).to_contain_text(str(resyncs + 1))
    page.wait_for_timeout(1500)
    assert page.evaluate(SPOKEN) == [["A001", 1, "call"]]
    assert page.evaluate("() => LoketDisplay.queue.length") == 0
    expect(page.get_by_test_id("current-number")).to_have_text("A001")

    # calls made while the TV is offline are replayed after the reconnect: shown and spoken, in order
    page.evaluate("() => { const m = LoketDisplay.stream.socket.io; m.reconnection(false); m.engine.close(); }")
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-online", "false")
    fo1.act(1, "start")
    fo1.act(1, "call-next", finish_current=True)  # A002 while the TV is away
    fo1.act(1, "recall")                          # and called again
    page.evaluate("() => { const m = LoketDisplay.stream.socket.io; m.reconnection(true); LoketDisplay.stream.socket.connect(); }")
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-online", "true")
    _wait_spoken(page, 3)
    assert page.evaluate(SPOKEN) == [["A001", 1, "call"], ["A002", 1, "call"], ["A002", 1, "recall"]]
    expect(page.get_by_test_id("current-number")).to_have_text("A002")
    expect(page.get_by_test_id("last-calls")).to_contain_text("A001")
    expect(page.get_by_test_id("counter-1")).to_contain_text("A002")

    # the next live call is spoken as usual
    fo1.act(1, "start")
    fo1.act(1, "call-next", finish_current=True)  # A003
    _wait_spoken(page, 4)
    assert page.evaluate(SPOKEN)[3] == ["A003", 1, "call"]

    # a reload (power cut, browser restarted) remembers what this TV has spoken today
    page.reload()
    page.wait_for_function("() => LoketDisplay.stream && LoketDisplay.stream.position !== null")
    expect(page.get_by_test_id("current-number")).to_have_text("A003")
    page.wait_for_timeout(1500)
    assert page.evaluate(SPOKEN) == []


@pytest.mark.slow
def test_voice_failure_skips_to_the_next_call(live_server, page_factory):
    fo1, fo2 = live_server.staff("fo1"), live_server.staff("fo2")
    fo1.act(1, "open")
    fo2.act(3, "open")
    live_server.issue("ktp_el")
    live_server.issue("kk")
    page = _open(live_server, page_factory)
    failing = {"number": "A001"}

    def voice(route):
        if f"number={failing['number']}" in route.request.url:
            route.fulfill(status=503, content_type="application/json",
                          body='{"error": "voice_unavailable", "message": "espeak-ng missing"}')
        else:
            route.continue_()

    page.route("**/voice/call.wav*", voice)
    # the page's own clock says when each number appeared (the test's polling may see A001 late)
    page.evaluate("""() => {
      const el = document.getElementById("current-number");
      window.__shown = [];
      new MutationObserver(() => window.__shown.push([el.textContent.trim(), performance.now()]))
        .observe(el, {childList: true, characterData: true, subtree: true});
    }""")
    fo1.act(1, "call-next")  # A001: no voice
    fo2.act(3, "call-next")  # B001: spoken
    expect(page.get_by_test_id("current-number")).to_have_text("A001")
    expect(page.get_by_test_id("current-number")).to_have_text("B001", timeout=10000)
    shown: dict[str, float] = {}
    for number, at in page.evaluate("() => window.__shown"):  # number -> when it first appeared (ms)
        shown.setdefault(number, at)
    assert shown["B001"] - shown["A001"] >= 2500, "a call without voice must stay on screen a moment"
    _wait_spoken(page, 1)
    assert page.evaluate(SPOKEN) == [["B001", 3, "call"]]
    assert page.evaluate("() => LoketDisplay.skipped.map(s => [s.number, s.result])") == [["A001", "error"]]


def test_autoplay_blocked_shows_unlock_button(live_server, page_factory, artifacts):
    fo1 = live_server.staff("fo1")
    fo1.act(1, "open")
    live_server.issue("ktp_el")
    page = page_factory(*TV)
    # behave like Chromium without --autoplay-policy: play() refused until a user gesture
    page.add_init_script("""
      (() => {
        const play = HTMLMediaElement.prototype.play;
        window.__gesture = false;
        document.addEventListener('pointerdown', () => { window.__gesture = true; }, true);
        HTMLMediaElement.prototype.play = function () {
          if (!window.__gesture) return Promise.reject(new DOMException('no gesture', 'NotAllowedError'));
          return play.call(this);
        };
      })();
    """)
    page.goto(live_server.display_url())
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-online", "true")
    fo1.act(1, "call-next")
    expect(page.get_by_test_id("current-number")).to_have_text("A001")  # shown anyway
    unlock = page.get_by_test_id("unlock-audio")
    expect(unlock).to_be_visible()
    expect(unlock).to_contain_text("Ketuk untuk mengaktifkan suara")
    page.screenshot(path=str(artifacts / "display-unlock.png"), animations="disabled")
    unlock.click()
    expect(unlock).to_be_hidden()
    _wait_spoken(page, 1)  # the call the room missed is said once sound works
    assert page.evaluate(SPOKEN) == [["A001", 1, "call"]]


def _busy_office(live_server) -> None:
    """Five counters open, nine tickets, six calls (A003 the last, at counter 1)."""
    desks = {1: "fo1", 2: "fo2", 3: "fo3", 5: "fo4", 6: "fo5"}
    staff = {n: live_server.staff(user) for n, user in desks.items()}
    for n, s in staff.items():
        s.act(n, "open")
    for service in ["ktp_el", "ktp_el", "kk", "skpwni", "pickup", "ktp_el", "kk", "ktp_el", "kia"]:
        live_server.issue(service)
    for n in (1, 2, 3, 5, 6):
        staff[n].act(n, "call-next")
    staff[1].act(1, "start")
    staff[1].act(1, "call-next", finish_current=True)
    staff[2].act(2, "start")
    staff[6].act(6, "start")
    staff[6].act(6, "finish")
    staff[6].act(6, "pause", reason="istirahat")


def _speak_window(live_server, seconds: float) -> None:
    from sqlalchemy import select

    from server.models import Office

    with live_server.db.session() as s:
        office = s.scalars(select(Office).where(Office.code == live_server.office)).one()
        office.settings = {**office.settings, "display": {"speak_window_s": seconds}}


def test_busy_office_stale_calls_are_shown_not_spoken(live_server, page_factory, artifacts):
    """Calls older than the office's speaking window come with the full state: shown, never spoken."""
    _speak_window(live_server, 2)
    _busy_office(live_server)
    time.sleep(2.5)
    page = _open(live_server, page_factory)
    expect(page.get_by_test_id("current-number")).to_have_text("A003")
    expect(page.get_by_test_id("current-counter")).to_have_text("LOKET 1")
    rows = page.get_by_test_id("last-calls").locator("li")
    expect(rows).to_have_count(5)
    expect(rows.first).to_contain_text("G001")
    expect(page.get_by_test_id("counter-2")).to_contain_text("Dilayani")
    expect(page.get_by_test_id("counter-6")).to_contain_text("Istirahat")
    expect(page.get_by_test_id("counter-4")).to_contain_text("Tutup")
    page.wait_for_timeout(1500)
    assert page.evaluate(SPOKEN) == []
    page.screenshot(path=str(artifacts / "display-busy.png"))


@pytest.mark.slow
def test_fresh_calls_in_the_first_state_are_spoken_once_in_order(live_server, page_factory):
    """A TV switched on right after calls were made speaks the ones the room may have missed
    (within the speaking window), oldest first, each once."""
    from sqlalchemy import select

    from server.models import Call

    _busy_office(live_server)
    with live_server.db.session() as s:
        made = [(c.ticket.display_number, c.counter.number) for c in s.scalars(select(Call).order_by(Call.id))]
    assert len(made) == 6
    page = _open(live_server, page_factory)
    _wait_spoken(page, 6, timeout=60000)
    page.wait_for_timeout(1000)
    assert [(n, c) for n, c, _kind in page.evaluate(SPOKEN)] == made
    expect(page.get_by_test_id("current-number")).to_have_text("A003")


def test_english_display(live_server, page_factory):
    page = _open(live_server, page_factory, lang="en")
    expect(page.get_by_test_id("current-counter")).to_have_text("Please take a queue number at the kiosk")
    expect(page.get_by_test_id("counter-1")).to_contain_text("COUNTER 1")
    expect(page.get_by_test_id("counter-1")).to_contain_text("Closed")


def test_revoked_display_token_is_explained(live_server, page_factory):
    from sqlalchemy import select

    from server.models import Device

    page = _open(live_server, page_factory)
    with live_server.db.session() as s:
        for device in s.scalars(select(Device).where(Device.kind == "display")):
            device.active = False
    page.evaluate("() => LoketDisplay.stream.socket.io.engine.close()")
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-online", "false")
    expect(page.get_by_test_id("connection-status")).to_contain_text("Token layar tidak berlaku")
