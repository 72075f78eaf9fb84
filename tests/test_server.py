"""End to end over real HTTP: `scimgate demo` (what `make run` calls) serves a working endpoint."""

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    port = _free_port()
    env = {
        **os.environ,
        "SCIMGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
        "SCIMGATE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "scimgate", "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    url = token = ""
    deadline = time.monotonic() + 90  # a loaded CI box imports slowly
    while time.monotonic() < deadline and not (url and token):
        line = process.stdout.readline()
        if not line:
            break
        if match := re.search(r"SCIM base URL:\s+(\S+)", line):
            url = match.group(1)
        if match := re.search(r"Bearer token:\s+(\S+)", line):
            token = match.group(1)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx2.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx2.TransportError:
            time.sleep(0.1)
    try:
        yield base, url, token
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


def test_demo_prints_a_working_url_and_token(demo_server: tuple[str, str, str]) -> None:
    base, url, token = demo_server
    assert url == f"{base}/scim/v2/demo"
    assert token.startswith("sgt_")
    assert httpx2.get(f"{base}/healthz").json() == {"status": "ok"}
    assert httpx2.get(f"{base}/readyz").json()["database"] == "ok"
    refused = httpx2.get(f"{url}/Users", headers={"Authorization": "Bearer sgt_wrong"})
    assert refused.status_code == 401
    accepted = httpx2.get(f"{url}/NoSuchThing", headers={"Authorization": f"Bearer {token}"})
    assert accepted.status_code == 404
    assert accepted.headers["content-type"].startswith("application/scim+json")
