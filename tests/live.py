"""A real scimgate server in a subprocess, for end-to-end tests over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    process: subprocess.Popen[bytes]

    def scim_url(self, tenant: str) -> str:
        return f"{self.base_url}/scim/v2/{tenant}"


@contextmanager
def live_server(database_url: str, *, workers: int = 1, **settings: str) -> Iterator[LiveServer]:
    """Serve ``database_url`` (already migrated) on a free loopback port until the block ends."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "SCIMGATE_DATABASE_URL": database_url,
        "SCIMGATE_PUBLIC_URL": base,
        "SCIMGATE_DEV_MODE": "1",
        **{f"SCIMGATE_{k.upper()}": v for k, v in settings.items()},
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "scimgate", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Generous: a loaded 2-core CI machine can take tens of seconds to import the app.
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx2.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("scimgate did not start")
            time.sleep(0.1)
        yield LiveServer(base, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
