"""docker-compose.yml runs the scheduled work in a `worker` service (issue 12): the same
image and environment as the server, `loket worker`, after the migration and Redis."""
from __future__ import annotations

import pytest

from tests.test_deployment import _compose


def test_compose_worker_service_runs_loket_worker_like_the_server():
    proc = _compose("config")
    assert proc.returncode == 0, proc.stderr
    yaml = pytest.importorskip("yaml")
    services = yaml.safe_load(proc.stdout)["services"]
    worker, server = services["worker"], services["server"]
    assert worker["command"] == ["worker"]
    assert worker["image"] == server["image"] and worker["build"] == server["build"]
    assert worker["environment"] == server["environment"]  # database, Redis, secret, notices: the same
    assert worker["depends_on"] == {"migrate": {"condition": "service_completed_successfully"},
                                    "redis": {"condition": "service_healthy"}}
    assert "ports" not in worker  # it serves nothing
    assert "worker" not in server["command"] and server["command"][0] == "serve"
