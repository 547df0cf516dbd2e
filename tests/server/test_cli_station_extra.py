"""On a server-only install (``loket[server]``: no device libraries), the commands that run
station devices say which extra to install instead of a raw ModuleNotFoundError (issue 14,
install extras). The real command in a subprocess, with the library hidden from it."""
from __future__ import annotations

import subprocess
import sys

import pytest

HIDE_AND_RUN = ("import sys; sys.modules[{lib!r}] = None; sys.argv = ['loket', *{args!r}]; "
                "from server.cli import main; main()")


def loket_without(lib: str, *args: str) -> subprocess.CompletedProcess:
    code = HIDE_AND_RUN.format(lib=lib, args=list(args))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize(("lib", "kind"), [("escpos", "kiosk"), ("escpos", "printer"), ("cv2", "pickup")])
def test_an_agent_without_its_device_library_names_the_station_extra(lib, kind):
    r = loket_without(lib, "agent", kind, "--help")
    assert r.returncode == 1, r.stderr
    assert "loket[station]" in r.stderr and lib in r.stderr
    assert "Traceback" not in r.stderr


def test_the_card_reader_agent_names_the_smartcard_extra():
    r = loket_without("smartcard", "agent", "activation", "--list-readers")  # the agent's own message
    assert r.returncode == 2 and "[smartcard]" in r.stderr and "Traceback" not in r.stderr


def test_an_agent_with_its_libraries_starts_as_before():
    r = subprocess.run([sys.executable, "-m", "server.cli", "agent", "kiosk", "--help"], capture_output=True,
                       text=True, timeout=60, check=False)
    assert r.returncode == 0, r.stderr
    assert "--printer" in r.stdout
