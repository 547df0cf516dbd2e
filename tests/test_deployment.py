"""Deployment files: docker-compose.yml validates and scales the server; the scripts parse.

No Docker engine is needed: ``docker-compose config`` only reads and checks the file.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"


def _compose(*args: str) -> subprocess.CompletedProcess:
    exe = shutil.which("docker-compose")
    if exe is None:
        message = "docker-compose not installed (scripts/system-deps.sh installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    env["LOKET_SECRET_KEY"] = "check"
    return subprocess.run(
        [exe, "-f", str(COMPOSE_FILE), "--project-directory", str(ROOT), *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )


def _server_service(config_yaml: str) -> dict:
    """The ``server`` service as {"environment": {...}, "command": [...]}."""
    try:
        import yaml  # not a dependency: used only when some other package brought it
    except ImportError:
        return _server_service_by_lines(config_yaml)
    service = yaml.safe_load(config_yaml)["services"]["server"]
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    command = service.get("command", [])
    if isinstance(command, str):
        command = command.split()
    return {"environment": {k: str(v) for k, v in env.items()}, "command": [str(c) for c in command]}


def _server_service_by_lines(config_yaml: str) -> dict:
    """Fallback parser for the block-style YAML that ``docker-compose config`` prints."""
    lines = config_yaml.splitlines()
    start = lines.index("  server:")
    block = []
    for line in lines[start + 1:]:
        if not line.startswith("    "):
            break
        block.append(line)
    result: dict = {"environment": {}, "command": []}
    section = None
    for line in block:
        key = re.match(r"^    ([A-Za-z_]+):\s*(.*)$", line)
        if key:
            section = key.group(1)
            if section == "command" and key.group(2):  # command given as a string
                result["command"] = key.group(2).strip("'\"").split()
            continue
        if section == "environment":
            item = re.match(r"^      ([A-Z0-9_]+):\s*(.*)$", line)
            if item:
                result["environment"][item.group(1)] = item.group(2).strip("'\"")
        elif section == "command":
            item = re.match(r"^    (?:  )?- (.*)$", line)
            if item:
                result["command"].append(item.group(1).strip("'\""))
    return result


def test_compose_file_is_valid():
    proc = _compose("config", "-q")
    assert proc.returncode == 0, proc.stderr


def test_compose_server_uses_postgres_redis_and_several_workers():
    proc = _compose("config")
    assert proc.returncode == 0, proc.stderr
    services = _compose("config", "--services").stdout.split()
    assert {"postgres", "redis", "migrate", "server"} <= set(services)

    server = _server_service(proc.stdout)
    env = server["environment"]
    assert env.get("LOKET_DATABASE_URL", "").startswith("postgresql+psycopg://"), env
    assert "@postgres:5432/" in env["LOKET_DATABASE_URL"]
    assert env.get("LOKET_REDIS_URL", "").startswith("redis://redis:"), env
    assert env.get("LOKET_SECRET_KEY") == "check", "LOKET_SECRET_KEY must come from the environment"

    command = server["command"]
    assert command[:1] == ["serve"], command
    assert "--workers" in command, command
    workers = int(command[command.index("--workers") + 1])
    assert workers >= 2, f"--workers {workers}: the server must run several workers"


def test_compose_file_requires_secret_key():
    exe = shutil.which("docker-compose")
    if exe is None:
        pytest.skip("docker-compose not installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_") and k != "LOKET_SECRET_KEY"}
    proc = subprocess.run(
        [exe, "-f", str(COMPOSE_FILE), "--project-directory", str(ROOT), "config", "-q"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )
    assert proc.returncode != 0
    assert "LOKET_SECRET_KEY" in proc.stderr


SHELL_SCRIPTS = sorted(ROOT.glob("scripts/*.sh")) + [ROOT / ".ci" / "run"]


@pytest.mark.parametrize("script", SHELL_SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_shell_script_syntax(script: Path):
    assert script.exists(), script
    proc = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
