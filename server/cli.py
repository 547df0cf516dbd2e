"""The ``loket`` command: demo, serve, worker, db upgrade, catalog load, simulate-day, staff/devices.

``demo``, ``serve`` and ``worker`` run on gevent; for ``demo`` and ``worker`` the monkey
patch happens before anything else is imported (see ``main``; gunicorn's gevent workers
patch themselves).
"""
from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import click


def _gevent_patch() -> None:
    from gevent import monkey

    if not monkey.is_module_patched("socket"):
        monkey.patch_all()


@click.group()
def cli() -> None:
    """Loket: queue, document pickup and KTP-el activation for Dukcapil offices."""


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--data-dir", default=None, help="Default: $LOKET_DATA_DIR or ./loket-data")
@click.option("--real-hours", is_flag=True, help="Keep the catalog's opening hours (07:30-16:00).")
def demo(host: str, port: int, data_dir: str | None, real_hours: bool) -> None:
    """Everything in one process: SQLite, the demo office, simulated devices."""
    from . import create_app
    from .config import DemoConfig
    from .demo import demo_manifest, seed_demo

    data = Path(data_dir or os.environ.get("LOKET_DATA_DIR", "loket-data")).resolve()
    data.mkdir(parents=True, exist_ok=True)
    app = create_app(DemoConfig, DATA_DIR=data, DATABASE_URL=os.environ.get("LOKET_DATABASE_URL", ""))
    loket = app.extensions["loket"]
    seeded = seed_demo(loket.db, data, all_day=not real_hours)
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"
    app.config["PUBLIC_URL"] = app.config["PUBLIC_URL"] or base
    manifest = demo_manifest(base, seeded)
    (data / "demo.json").write_text(json.dumps(manifest, indent=2))
    _start_demo_agents(app, base, seeded)
    click.echo(f"Loket demo on {base}   (data: {data})")
    for name, url in manifest["pages"].items():
        click.echo(f"  {name:16} {url}")
    click.echo("  staff logins     " + ", ".join(f"{u['username']}/{u['password']}" for u in manifest["staff_logins"]))
    click.echo(f"  written to       {data / 'demo.json'}")
    loket.socketio.run(app, host=host, port=port, log_output=False, use_reloader=False)


#: what the station extra installs (``loket[station]``; pyscard: ``loket[smartcard]``), by import name
STATION_LIBRARIES = frozenset({"escpos", "serial", "cv2", "numpy", "pyzbar", "zxingcpp", "smartcard"})


@contextmanager
def _station_libraries(what: str):
    """Turn a missing device library into a clear error naming the extra to install (a
    server-only install, ``loket[server]``, has none of them); other errors pass."""
    try:
        yield
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in STATION_LIBRARIES:
            raise
        extra = "loket[demo]" if what == "loket demo" else "loket[station]"
        card = " and loket[smartcard] for the card reader" if exc.name.startswith("smartcard") else ""
        raise click.ClickException(f"{what} runs station devices and needs their libraries ({exc.name} is not "
                                   f"installed): pip install '{extra}'{card}") from exc


def _start_demo_agents(app, base: str, seeded: dict) -> None:
    """Run the station agents in this process on simulated devices (drivers/*/simulator)."""
    with _station_libraries("loket demo"):
        from activation.agent import start_demo_activation_agent
        from kiosk.agent import start_demo_agent

    start_demo_agent(app, base, seeded["tokens"]["kiosk"], scanner=True)  # booking QR scanner: <data>/kiosk-scanner
    start_demo_agent(app, base, seeded["tokens"]["counter_printer"], key="counter_printer")
    start_demo_activation_agent(app, base, seeded["tokens"]["activation"])  # simulated card reader
    try:
        from display.agent import start_demo_display_agent
    except ImportError:  # the LED display agent arrives with the device layer
        return
    start_demo_display_agent(app, base, seeded["tokens"]["display_agent"])


@cli.command()
@click.option("--host", default="0.0.0.0", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=4, show_default=True, type=int, help="gevent worker processes")
def serve(host: str, port: int, workers: int) -> None:
    """Production server: gunicorn with gevent workers, config from the environment.

    Several workers share the port; clients use the websocket transport only, so no sticky
    sessions are needed, and LOKET_REDIS_URL must be set when workers > 1.
    """
    from .startup_checks import serve_problems
    from .wsgi_server import run_gunicorn

    if workers > 1 and not os.environ.get("LOKET_REDIS_URL"):
        raise click.UsageError("LOKET_REDIS_URL is required with more than one worker")
    # issue 13: no weak or well-known secret key, no demo accounts with the demo password
    problems = _in_child_process(serve_problems, os.environ.get("LOKET_SECRET_KEY", ""), _database_url())
    if problems:
        raise click.ClickException("loket serve refuses to start:\n- " + "\n- ".join(problems))
    run_gunicorn(host, port, workers)


def _in_child_process(func, *args):
    """``func(*args)`` run in a fresh (spawned) Python process; its result, or its exception.

    For what gunicorn's master must do on the database before it forks the workers: that
    imports psycopg, which picks its wait function once, at import, by whether gevent has
    patched ``select`` yet. Imported in the master (unpatched), every forked worker would
    inherit the blocking one, and a request waiting on PostgreSQL would stall every other
    client of its worker (tests/server/test_serve_cooperative.py)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(func, *args).result()


@cli.command()
def worker() -> None:
    """Run the scheduled work (day close, booking expiry, notice delivery) until SIGTERM/SIGINT.

    One process per deployment next to `loket serve` (whose web workers run none of it),
    same environment. A second one on PostgreSQL is a hot standby: it takes over within
    LOKET_SCHEDULER_RETRY_S seconds (default 5) when the leader's database connection dies.
    Jobs and intervals: server/scheduler/jobs.py (LOKET_DAY_CLOSE_CHECK_S, LOKET_NOTICE_DELIVERY_S ...).
    """
    from .scheduler.worker import run_worker

    try:
        code = run_worker()
    except RuntimeError as exc:  # incomplete configuration, e.g. no LOKET_SECRET_KEY
        raise click.ClickException(str(exc)) from exc
    sys.exit(code)


@cli.group()
def db() -> None:
    """Database commands."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply Alembic migrations to LOKET_DATABASE_URL."""
    from .migrations import upgrade

    url = _database_url()
    upgrade(url, revision)
    click.echo(f"database at revision {revision}")


def _database_url() -> str:
    url = os.environ.get("LOKET_DATABASE_URL")
    if not url:
        data = Path(os.environ.get("LOKET_DATA_DIR", "loket-data")).resolve()
        data.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{data / 'loket.db'}"
    return url


@cli.group()
def catalog() -> None:
    """Service catalog commands."""


@catalog.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def catalog_load(file: str) -> None:
    """Create or update the office, services and counters described in FILE (TOML)."""
    from .db import Database
    from .services.actors import SYSTEM
    from .services.catalog import load_catalog_file
    from .services.errors import LoketError

    database = Database(_database_url())
    try:
        with database.session() as s:
            office = load_catalog_file(s, file, actor=SYSTEM)
            click.echo(f"office {office.code}: {len(office.services)} services, {len(office.counters)} counters")
    except LoketError as exc:
        raise click.ClickException(exc.message) from exc
    finally:
        database.dispose()


@cli.command("simulate-day")
@click.option("--server", "server_url", required=True, help="Base URL of a running Loket server")
@click.option("--tickets", default=1500, show_default=True, type=int)
@click.option("--counters", default=30, show_default=True, type=int)
@click.option("--speed", default=600.0, show_default=True, type=float, help="Simulated seconds per real second")
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--user", default="sysadmin", show_default=True, help="A system admin: the simulation creates its own office")
@click.option("--password", default="demo1234", show_default=True)
@click.option("--json-out", type=click.Path(dir_okay=False), default=None, help="Also write the report as JSON")
def simulate_day(server_url, tickets, counters, speed, seed, user, password, json_out) -> None:
    """Replay a realistic office day against SERVER through its API and websockets."""
    from .simulate.day import run_simulation

    report = run_simulation(server_url, tickets=tickets, counters=counters, speed=speed, seed=seed,
                            user=user, password=password)
    if json_out:
        Path(json_out).write_text(json.dumps(report, indent=2))


AGENT_MODULES = {
    "kiosk": "kiosk.agent",
    "printer": "kiosk.agent",  # a counter's resi printer: the same program on a counter PC
    "display": "display.agent",
    "pickup": "pickup.agent",
    "activation": "activation.agent",
}


@cli.command("agent", context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
                                        "help_option_names": []})
@click.argument("kind", type=click.Choice(sorted(AGENT_MODULES)))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def agent(kind: str, args: tuple[str, ...]) -> None:
    """Run the station agent of KIND (owns the station's devices, talks to the server).

    Every agent takes --server URL --token T plus its device options; `loket agent KIND
    --help` lists them (kiosk and printer: --printer URI; display: --led/--keypad; pickup: --camera,
    --scanner; activation: --reader).
    """
    import importlib

    with _station_libraries(f"loket agent {kind}"):  # also a device library imported when a device opens
        module = importlib.import_module(AGENT_MODULES[kind])
        code = module.main(list(args)) or 0
    sys.exit(code)


@cli.command("staff-add")
@click.argument("username")
@click.option("--role", required=True)
@click.option("--full-name", required=True)
@click.option("--office", default=None, help="Office code (required for every role except system_admin, which has none)")
@click.password_option()
def staff_add(username, role, full_name, office, password) -> None:
    """Create a staff login."""
    from sqlalchemy import select

    from .db import Database
    from .models import Office
    from .services.accounts import create_staff
    from .services.actors import SYSTEM
    from .services.errors import LoketError

    database = Database(_database_url())
    try:
        with database.session() as s:
            office_id = None
            if office:
                office_id = s.scalar(select(Office.id).where(Office.code == office))
                if office_id is None:
                    raise click.ClickException(f"no office {office}")
            create_staff(s, username, password, role, full_name=full_name, office_id=office_id, actor=SYSTEM)
    except LoketError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"staff {username} created")


# the staff and office commands of issue 13 (server/cli_staff.py)
from .cli_staff import office_idle, staff_deactivate, staff_passwd

cli.add_command(staff_passwd)
cli.add_command(staff_deactivate)
cli.add_command(office_idle)


@cli.command("device-add")
@click.argument("office")
@click.argument("kind", type=click.Choice(["kiosk", "display", "pickup", "activation", "printer", "survey"]))
@click.argument("name")
@click.option("--keypad-counters", default="", help="Display stations: counter numbers whose keypads it may operate, e.g. 1,2,3")
@click.option("--counters", default="", help="Counter printers: counter numbers it prints resi for, e.g. 1,2 (default: all); "
              "survey tablets: the counters whose finished tickets it surveys (required)")
@click.option("--channel", type=click.Choice(["drive_thru", "counter"]), default=None,
              help="Pickup stations: a Drive-Thru lane (default) or a pickup counter; the pickups report "
                   "counts its hand-overs by this channel")
def device_add(office, kind, name, keypad_counters, counters, channel) -> None:
    """Register a device and print its token (shown once)."""
    from sqlalchemy import select

    from .db import Database
    from .models import Office
    from .services.accounts import create_device
    from .services.actors import SYSTEM

    database = Database(_database_url())
    with database.session() as s:
        office_id = s.scalar(select(Office.id).where(Office.code == office))
        if office_id is None:
            raise click.ClickException(f"no office {office}")
        if channel and kind != "pickup":
            raise click.BadParameter("only pickup stations have a channel", param_hint="--channel")
        if kind == "survey" and not counters.strip():
            raise click.BadParameter("a survey tablet needs the counters it stands at, e.g. --counters 1",
                                     param_hint="--counters")
        device, token = create_device(s, office_id, kind, name, actor=SYSTEM)
        settings = {}
        for key, value, hint in (("keypad_counters", keypad_counters, "--keypad-counters"),
                                 ("counters", counters, "--counters")):
            if value:
                try:
                    settings[key] = [int(n) for n in value.split(",") if n.strip()]
                except ValueError:
                    raise click.BadParameter("counter numbers separated by commas", param_hint=hint) from None
        if channel == "counter":
            settings["channel"] = "counter"
        device.settings = settings
    click.echo(token)


def main() -> None:
    """Console entry point."""
    if len(sys.argv) > 1 and sys.argv[1] in ("demo", "worker"):
        _gevent_patch()
    cli()


if __name__ == "__main__":
    main()
