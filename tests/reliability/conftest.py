"""Fixtures for the reliability suite: sizes, a live server whose output is kept, SCIM helpers.

``SCIMGATE_RELIABILITY_SCALE`` (default 1) multiplies every workload size and
time budget; CI runs at 1, a soak run might use 20.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest

from scimgate.model.entities import Tenant
from scimgate.service.tokens import IssuedToken
from tests.live import free_port

SCALE = max(1.0, float(os.environ.get("SCIMGATE_RELIABILITY_SCALE", "1")))
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
SCIM_JSON = "application/scim+json"


def scaled(n: int) -> int:
    return int(n * SCALE)


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def scim_url(self, tenant: str) -> str:
        return f"{self.base_url}/scim/v2/{tenant}"

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def running_server(
    database_url: str, log_path: Path, *, workers: int = 1, **settings: str
) -> Iterator[Server]:
    """tests/live.py's server, with stdout and stderr appended to ``log_path``.

    The block may kill the process itself (crash tests); leaving the block
    reaps it either way.
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "SCIMGATE_DATABASE_URL": database_url,
        "SCIMGATE_PUBLIC_URL": base,
        "SCIMGATE_DEV_MODE": "1",
        "SCIMGATE_LOG_LEVEL": "DEBUG",
        "PYTHONUNBUFFERED": "1",
        **{f"SCIMGATE_{k.upper()}": v for k, v in settings.items()},
    }
    argv = [sys.executable, "-m", "scimgate", "serve", "--port", str(port)]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [*argv, "--workers", str(workers)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120  # a loaded CI box imports slowly
        while True:
            try:
                if httpx2.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"scimgate did not start:\n{log_path.read_text()}")
            time.sleep(0.1)
        yield Server(base, process, log_path)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        process.wait()


@dataclass(frozen=True)
class LiveTenant:
    slug: str
    tenant: Tenant
    token: str

    def client(self, server: Server, timeout: float = 10.0) -> httpx2.Client:
        return httpx2.Client(
            base_url=server.scim_url(self.slug),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": SCIM_JSON},
            timeout=timeout,
        )


@pytest.fixture
def live_tenant(
    make_tenant: Callable[..., Tenant], make_token: Callable[..., IssuedToken]
) -> Callable[[str], LiveTenant]:
    def make(slug: str) -> LiveTenant:
        tenant = make_tenant(slug)
        return LiveTenant(slug, tenant, make_token(slug).secret)

    return make


def user_body(name: str, **extra: Any) -> dict[str, Any]:
    return {"schemas": [USER], "userName": name, **extra}


def patch_body(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def assert_scim_error(response: Any, status: int | None = None) -> None:
    """``response`` is a SCIM Error (RFC 7644 §3.12) with the SCIM media type."""
    assert response.headers.get("content-type", "").startswith(SCIM_JSON), response.text
    body = response.json()
    assert body["schemas"] == [ERROR], body
    assert body["status"] == str(response.status_code), body
    if status is not None:
        assert response.status_code == status, body
