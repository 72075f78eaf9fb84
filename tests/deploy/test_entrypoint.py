"""The container's smoke test, run against docker/entrypoint.sh outside a container.

Start the entrypoint on a blank database as the image would, wait for
/healthz, create a tenant and a token with the CLI, create a user over real
HTTP, deliver the resulting event to a webhook receiver, then stop the server
the way a container runtime does (SIGTERM) and expect a clean exit.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from tests.cli.conftest import Cli
from tests.deploy.conftest import BlankDatabase
from tests.events.receiver import Receiver
from tests.live import free_port

ENTRYPOINT = Path(__file__).resolve().parents[2] / "docker" / "entrypoint.sh"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver().start()
    yield found
    found.stop()


def _environment(database_url: str, base_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCIMGATE_")}
    return env | {
        # The image puts its virtualenv first on PATH; this is the test's.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        "SCIMGATE_DATABASE_URL": database_url,
        "SCIMGATE_PUBLIC_URL": base_url,
        "SCIMGATE_SECRET_KEY": secrets.token_urlsafe(32),
        # The receiver listens on loopback, which webhooks may reach only when allowed.
        "SCIMGATE_WEBHOOK_ALLOW_PRIVATE": "1",
    }


def _wait_for_health(process: subprocess.Popen[bytes], base_url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the entrypoint exited before serving"
        try:
            if httpx2.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("the entrypoint did not serve /healthz")


def test_the_entrypoint_migrates_serves_delivers_and_stops_cleanly(
    blank_database: BlankDatabase, receiver: Receiver, tmp_path: Path
) -> None:
    database_url = blank_database()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = _environment(database_url, base_url)
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        # One worker: a loaded CI machine can take longer to start a second
        # process than uvicorn's supervisor waits for it.
        [str(ENTRYPOINT), "--port", str(port)],
        env=env,
        stdout=log,
        stderr=log,
    )
    try:
        _wait_for_health(process, base_url)
        run = Cli(database_url)
        run.env.update(env)
        assert run("db", "check").exit_code == 0
        run("tenant", "create", "acme")
        token = run.json("token", "create", "acme", "--json")["token"]
        hook = run.json("webhook", "add", "acme", "--url", receiver.url, "--json")
        receiver.secret = hook["secret"]

        created = httpx2.post(
            f"{base_url}/scim/v2/acme/Users",
            json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ada"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert created.status_code == 201, created.text
        assert run("worker", "--once").exit_code == 0

        assert receiver.rejected == []
        assert receiver.accepted[0]["type"] == "user.created"
        assert receiver.accepted[0]["data"]["user"]["userName"] == "ada"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            returncode = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
        finally:
            log.close()
    # Only a server that replaced the shell receives the SIGTERM: it shuts down
    # gracefully, then exits with the signal's status as uvicorn does.
    assert returncode in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in (tmp_path / "server.log").read_text()
