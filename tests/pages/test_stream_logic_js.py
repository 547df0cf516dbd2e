"""The pages' office-stream logic (server/static/js/stream_logic.js) in Chromium, against the
same cases as the Python twin (tests/realtime/stream_cases.json, run on drivers/stream by
tests/realtime/test_stream_logic.py): one logic, two languages, one set of cases."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.realtime.test_stream_logic import CASES

pytestmark = pytest.mark.browser

SCRIPT = (Path(__file__).resolve().parents[2] / "server/static/js/stream_logic.js").read_text()

RUNNER = """
async ([source, cases]) => {
  // stream_logic.js is an ES module without imports: import it from its source.
  const url = URL.createObjectURL(new Blob([source], {type: "text/javascript"}));
  const {StreamCursor, CallAnnouncer} = await import(url);
  const msg = (name, position, log) => ({position, log, marker: name + "-" + position});
  const expand = (a) => {
    const out = Object.assign({}, a);
    if (typeof out.state === "string") out.state = {v: out.state};
    if (out.entries) out.entries = out.entries.map(([n, p]) => ({name: n, data: msg(n, p, a.log)}));
    return out;
  };
  const compact = (actions) => actions.map((a) => a[0] === "state" ? ["state", a[1].v]
    : a[0] === "event" ? ["event", a[1], a[2].position] : a);
  const failures = [];
  for (const c of cases.cursor) {
    const cur = new StreamCursor(c.grace_ms === undefined ? 300 : c.grace_ms);
    c.steps.forEach((step, i) => {
      let got;
      if ("connect" in step) got = cur.connect(step.connect);
      else if ("disconnect" in step) got = cur.disconnect();
      else if ("retry" in step) got = cur.retry(step.retry);
      else if ("tick" in step) got = cur.tick(step.tick);
      else if ("event" in step) { const [n, p, l] = step.event; got = cur.event(n, msg(n, p, l), step.now); }
      else got = cur.answer(expand(step.answer), step.now);
      if (JSON.stringify(compact(got)) !== JSON.stringify(step.expect))
        failures.push([c.name, i, compact(got), step.expect]);
    });
    for (const [k, v] of Object.entries(c.final || {}))
      if (JSON.stringify(cur[k] === undefined ? null : cur[k]) !== JSON.stringify(v)) failures.push([c.name, "final " + k, cur[k], v]);
  }
  for (const c of cases.announcer) {
    const a = new CallAnnouncer(c.window_s, c.known || [], c.memory || 500);
    c.steps.forEach((step, i) => {
      const now = Date.parse(step.now);
      const got = "live" in step ? a.live(step.live, now) : a.state(step.state, now).map((x) => x.id);
      if (JSON.stringify(got) !== JSON.stringify(step.expect)) failures.push([c.name, i, got, step.expect]);
    });
    if (c.final_known && JSON.stringify(a.known()) !== JSON.stringify(c.final_known))
      failures.push([c.name, "final_known", a.known(), c.final_known]);
  }
  return failures;
}
"""


def test_javascript_logic_passes_the_shared_cases(page_factory):
    page = page_factory()
    page.set_content("<!doctype html><title>stream logic</title>")
    failures = page.evaluate(RUNNER, [SCRIPT, CASES])
    assert failures == [], json.dumps(failures, indent=1)
    count = len(CASES["cursor"]) + len(CASES["announcer"])
    assert count >= 18
