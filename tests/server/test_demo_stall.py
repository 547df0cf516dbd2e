"""The demo server never stalls (issue 13): a real ``loket demo`` process (SQLite under
gevent, one process), in which a signed-in staff browser posts the public AKAPELA form and
an IKM survey answer while another client asks for the office. Each post is made as the
first request of a fresh staff sign-in, so the user is not yet in the user cache
(``web.user_cache``) when the post runs: loading it lazily inside the post's transaction
used to open a second session that waited on the first (SQLite's busy timeout, 30 s), a
blocking call that held up every other request of the process.

In process (``server.db.guard_nested_transactions``: on SQLite such a nesting fails at
once instead of waiting): the same posts and every GET route of the office, each
as a signed-in staff whose user has just left the cache, answer without a server error.
"""
from __future__ import annotations

import json
import os
import subprocess
import threading
import time

import pytest
import requests

from server import create_app
from server.config import TestingConfig
from server.db import NestedTransactionError, make_engine
from server.demo import DEMO_PASSWORD, seed_demo
from tests.live import Staff, free_port, wait_http
from tests.procs import LOKET, stop_group
from tests.threads import timed_in_thread
from tests.server.test_api import counter_id, kiosk_issue, post, staff_client
from tests.workers import HEAVY

pytestmark = [HEAVY]  # it times a real `loket demo`'s answers

PROMPT_S = 5.0  # well under SQLite's 30 s busy timeout, well over a normal answer
NIK = "1471011205900001"
CONTACT = {"name": "Siti Aminah", "phone": "0812-3456-7890", "id_kind": "nik", "id_number": NIK,
           "kind": "complaint", "text": "KTP-el saya belum jadi setelah 2 minggu."}
ANSWERS = {"u1": 4, "u2": 3, "u3": 3, "u4": 4, "u5": 3, "u6": 4, "u7": 4, "u8": 2, "u9": 3}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A real `loket demo` on a free port: (base URL, its demo.json manifest)."""
    data = tmp_path_factory.mktemp("demo-stall")
    port = free_port()
    env = {**os.environ, "LOKET_DATA_DIR": str(data)}
    env.pop("LOKET_DATABASE_URL", None)
    env.pop("LOKET_REDIS_URL", None)
    with open(data / "server.log", "wb") as log:
        proc = subprocess.Popen([LOKET, "demo", "--port", str(port), "--data-dir", str(data)], env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_http(f"{base}/api/v1/offices/DEMO", timeout=60, proc=proc)
        except TimeoutError:
            raise RuntimeError(f"loket demo did not start: {(data / 'server.log').read_text()[-2000:]}") from None
        yield base, json.loads((data / "demo.json").read_text())
    finally:
        stop_group(proc, timeout=15)


def fresh_staff(base: str, username: str) -> Staff:
    """A staff browser just signed in: nothing of it has been asked since, so the server's
    user cache does not hold it yet."""
    return Staff(base, username, DEMO_PASSWORD)


def post_while_probing(base: str, post) -> tuple[requests.Response, float, float]:
    """Run ``post()`` in a thread and, while it runs, GET the office as another client.
    Returns (the post's answer, its seconds, the probe's seconds)."""
    thread, result = timed_in_thread(post)
    time.sleep(0.3)  # the post is in its transaction (or, before the fix, stuck in it)
    started = time.monotonic()
    probe = requests.get(f"{base}/api/v1/offices/DEMO", timeout=60)
    probe_s = time.monotonic() - started
    thread.join(timeout=90)
    assert probe.status_code == 200
    return result["answer"], result["seconds"], probe_s


def test_staff_posts_the_public_complaint_form_without_stalling_the_server(demo):
    base, _manifest = demo
    staff = fresh_staff(base, "kasi")
    form = {**CONTACT, "csrf_token": staff.http.headers["X-CSRFToken"]}

    def post():
        return staff.http.post(f"{base}/pengaduan/DEMO", data=form, timeout=90)

    answer, post_s, probe_s = post_while_probing(base, post)
    assert answer.status_code == 201, answer.text[:500]
    assert 'data-testid="complaint-number"' in answer.text
    assert post_s < PROMPT_S, f"the complaint post took {post_s:.1f} s"
    assert probe_s < PROMPT_S, f"another request waited {probe_s:.1f} s behind the complaint post"


def test_staff_answers_a_survey_link_without_stalling_the_server(demo):
    base, manifest = demo
    kiosk = {"Authorization": f"Bearer {manifest['device_tokens']['kiosk']}"}
    r = requests.post(f"{base}/api/v1/offices/DEMO/tickets", json={"service": "kia"}, headers=kiosk, timeout=10)
    assert r.status_code == 201, r.text
    public_id = r.json()["ticket"]["public_id"]
    officer = fresh_staff(base, "fo4")
    officer.act(4, "open")  # counter 4 serves KIA and PELITA 1
    called = officer.act(4, "call-next")
    assert called["ticket"]["public_id"] == public_id, called
    officer.act(4, "start")
    officer.act(4, "finish")
    link = requests.get(f"{base}/t/{public_id}/survey", allow_redirects=False, timeout=10)
    assert link.status_code == 302 and "/s/" in link.headers["Location"], link.headers
    token = link.headers["Location"].split("?")[0].rsplit("/", 1)[1]

    staff = fresh_staff(base, "kabid")  # the same browser the staff signed in with

    def post():
        return staff.http.post(f"{base}/api/v1/survey/link/{token}", json={"answers": ANSWERS}, timeout=90)

    answer, post_s, probe_s = post_while_probing(base, post)
    assert answer.status_code == 201, answer.text[:500]
    assert answer.json()["response"]["answers"] == ANSWERS
    assert post_s < PROMPT_S, f"the survey post took {post_s:.1f} s"
    assert probe_s < PROMPT_S, f"another request waited {probe_s:.1f} s behind the survey post"


def test_guard_refuses_a_transaction_inside_another_on_the_same_thread(tmp_path):
    """Every SQLite engine's guard: a second transaction on the same thread and database
    fails at once instead of waiting 30 s; one after another, and on another thread (which
    waits for the lock as usual), are fine."""
    engine = make_engine(f"sqlite:///{tmp_path / 'guard.db'}")
    try:
        with engine.begin() as outer:
            outer.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        with engine.begin() as outer:
            outer.exec_driver_sql("INSERT INTO t VALUES (1)")
            started = time.monotonic()
            with pytest.raises(NestedTransactionError), engine.begin() as inner:
                inner.exec_driver_sql("SELECT 1")
            assert time.monotonic() - started < 1.0
        with engine.begin() as again:  # the outer one has ended: no longer held
            assert again.exec_driver_sql("SELECT count(*) FROM t").scalar() == 1

        errors: list[BaseException] = []

        def elsewhere():  # waits for the lock as any other writer does, then goes on
            try:
                with engine.begin() as conn:
                    conn.exec_driver_sql("INSERT INTO t VALUES (2)")
            except BaseException as exc:  # noqa: BLE001  (reported below)
                errors.append(exc)

        with engine.begin() as outer:
            outer.exec_driver_sql("INSERT INTO t VALUES (3)")
            thread = threading.Thread(target=elsewhere)
            thread.start()
            time.sleep(0.2)
        thread.join(timeout=10)
        assert errors == []
        with engine.begin() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 3
    finally:
        engine.dispose()


@pytest.fixture
def app(sqlite_url, tmp_path):
    """The demo office in process on SQLite (whose engine has the nesting guard)."""
    app = create_app(TestingConfig, DATABASE_URL=sqlite_url, DATA_DIR=tmp_path, SOCKETIO_ASYNC_MODE="threading")
    app.config["SEEDED"] = seed_demo(app.extensions["loket"].db, tmp_path)
    yield app
    app.extensions["loket"].db.dispose()


def forget_users(app) -> None:
    """Empty the user cache: the next request loads its staff user from the database."""
    app.extensions["loket_user_cache"].clear()


def test_signed_in_staff_posts_public_forms_with_the_user_not_cached(app):
    staff = staff_client(app, "kasi")
    forget_users(app)
    r = staff.post("/pengaduan/DEMO", data={**CONTACT, "csrf_token": staff.csrf})
    assert r.status_code == 201 and b'data-testid="complaint-number"' in r.data

    fo1 = staff_client(app, "fo1")
    post(fo1, f"/api/v1/counters/{counter_id(app, 1)}/open")
    ticket = kiosk_issue(app, "ktp_el").get_json()["ticket"]
    for action in ("call-next", "start", "finish"):
        assert post(fo1, f"/api/v1/counters/{counter_id(app, 1)}/{action}").status_code == 200, action
    link = app.test_client().get(f"/t/{ticket['public_id']}/survey").headers["Location"]
    token = link.split("?")[0].rsplit("/", 1)[1]
    forget_users(app)
    r = post(staff, f"/api/v1/survey/link/{token}", {"answers": ANSWERS})
    assert r.status_code == 201, r.get_json()


def office_get_routes(app) -> list[str]:
    """Every GET route without parameters or with the office code only, for DEMO."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or "GET" not in rule.methods or not set(rule.arguments) <= {"code", "office_code"}:
            continue
        out.append(rule.build({arg: "DEMO" for arg in rule.arguments}, append_unknown=False)[1])
    return sorted(set(out))


@pytest.mark.parametrize("username", ["admin", "fo1"])
def test_every_office_page_and_api_as_signed_in_staff_with_the_user_not_cached(app, username):
    client = staff_client(app, username)
    routes = office_get_routes(app)
    assert "/pengaduan/DEMO" in routes and "/api/v1/offices/DEMO" in routes
    failed = {}
    for url in routes:
        forget_users(app)
        try:
            r = client.get(url)
        except NestedTransactionError as exc:  # the test client raises what a view raised
            failed[url] = repr(exc)[:80]
            continue
        if r.status_code >= 500:
            failed[url] = r.status_code
    assert failed == {}
