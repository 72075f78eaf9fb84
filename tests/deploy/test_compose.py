"""compose.yaml and the Dockerfile promise what docs/how-to/deploy.md says they do.

No container runtime runs in CI, so these read the files; the entrypoint itself
runs outside a container in test_entrypoint.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_compose_runs_the_server_the_worker_and_postgres(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"scimgate", "worker", "postgres"}
    assert compose["services"]["postgres"]["image"] == "postgres:15"
    assert compose["services"]["worker"]["command"] == ["worker"]


def test_the_server_runs_two_workers(compose: dict[str, Any]) -> None:
    command = compose["services"]["scimgate"]["command"]
    assert command[command.index("--workers") + 1] == "2"


def test_postgres_keeps_its_data_in_a_named_volume(compose: dict[str, Any]) -> None:
    volumes = compose["services"]["postgres"]["volumes"]
    assert "postgres-data:/var/lib/postgresql/data" in volumes
    assert "postgres-data" in compose["volumes"]


def test_each_service_waits_for_a_healthy_dependency(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["scimgate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["worker"]["depends_on"] == {"scimgate": {"condition": "service_healthy"}}


def test_the_services_share_a_secret_key_without_a_default(compose: dict[str, Any]) -> None:
    for name in ("scimgate", "worker"):
        environment = compose["services"][name]["environment"]
        assert (
            environment["SCIMGATE_SECRET_KEY"] == "${SCIMGATE_SECRET_KEY:?set SCIMGATE_SECRET_KEY}"
        )
        assert "@postgres:5432/scimgate" in environment["SCIMGATE_DATABASE_URL"]
        assert "SCIMGATE_PUBLIC_URL" in environment


def test_the_image_is_multi_stage_slim_non_root_and_health_checked() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE)
    assert stages == ["python:3.11-slim", "python:3.11-slim"]
    assert re.search(r"^USER scimgate$", dockerfile, re.MULTILINE)
    assert re.search(r"^EXPOSE 8000$", dockerfile, re.MULTILINE)
    assert re.search(r"^HEALTHCHECK .*\n.*/healthz", dockerfile, re.MULTILINE)
    assert "uv sync --frozen" in dockerfile
    assert 'ENTRYPOINT ["scimgate-entrypoint"]' in dockerfile
    assert "COPY --chmod=0755 docker/entrypoint.sh /usr/local/bin/scimgate-entrypoint" in dockerfile


def test_the_entrypoint_migrates_then_execs_the_server() -> None:
    commands = [
        line
        for line in (ROOT / "docker" / "entrypoint.sh").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert commands == [
        "set -eu",
        "scimgate db upgrade",
        'exec scimgate serve --host 0.0.0.0 --port 8000 "$@"',
    ]
