"""Start the servers under test on loopback, each in its own subprocess, and stop them."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from httpload import Endpoint
from pgstat import BackendCpu
from procstat import process_tree

HOST = "127.0.0.1"
_BENCH_DIR = Path(__file__).resolve().parent
_READY_TIMEOUT_S = 60.0


class ServerFailed(RuntimeError):
    """A server (or one of scimgate's setup commands) did not start."""


@dataclass(slots=True)
class Server:
    name: str
    endpoint: Endpoint
    base_path: str  # e.g. /scim/v2/bench-1a2b, without a trailing slash
    process: subprocess.Popen[bytes]
    log_path: Path
    ready_path: str  # answers once the server listens
    # scimgate only: what direct seeding needs.
    database_url: str | None = None
    tenant_id: int | None = None
    api_key: str | None = None  # a host-API key of the tenant, when asked for
    details: dict[str, Any] = field(default_factory=dict)
    # PostgreSQL only: reads the CPU of the backends serving the server's database.
    backends: Any = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self) -> None:
        """Return once the server answers HTTP; stop it and raise ServerFailed if it never does."""
        try:
            _wait_ready(self.process, self.endpoint.port, self.ready_path, self.log_path)
        except ServerFailed:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server and any worker its supervisor left behind (SIGTERM, then SIGKILL)."""
        if self.backends is not None:
            self.backends.close()
            self.backends = None
        group = self.process.pid  # each server leads its own session (start_new_session)
        tree = process_tree(self.process.pid)
        if self.process.poll() is None:
            self.process.terminate()  # uvicorn stops its workers on TERM
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        for pid in tree[1:]:
            try:
                if os.getpgid(pid) == group:
                    os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_ready(process: subprocess.Popen[bytes], port: int, path: str, log: Path) -> None:
    request = f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n\r\n"
    deadline = time.monotonic() + _READY_TIMEOUT_S
    for _ in range(int(_READY_TIMEOUT_S / 0.1)):
        if process.poll() is not None or time.monotonic() > deadline:
            break
        try:
            with socket.create_connection((HOST, port), timeout=2) as sock:
                sock.sendall(request.encode())
                if sock.recv(64).startswith(b"HTTP/1.1 "):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
    raise ServerFailed(f"server on port {port} did not answer {path}:\n{tail}")


def _scimgate_command() -> str:
    beside = Path(sys.executable).parent / "scimgate"
    found = str(beside) if beside.exists() else shutil.which("scimgate")
    if found is None:
        raise ServerFailed("no `scimgate` command next to this Python or on PATH")
    return found


def _cli_json(command: list[str], env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise ServerFailed(f"{' '.join(command[1:])} failed:\n{done.stderr}{done.stdout}")
    if "--json" not in command:
        return {}
    parsed: dict[str, Any] = json.loads(done.stdout)
    return parsed


def start_scimgate(
    workdir: Path,
    *,
    database_url: str | None,
    workers: int,
    api_key: bool = False,
    source: Path | None = None,
    name: str = "scimgate",
) -> Server:
    """Migrate, create a fresh tenant and token (and, if asked, a host-API key) through
    the CLI, then launch the server.

    ``source``: serve the ``scimgate`` package found in that directory (an exported older
    tree's ``src``) instead of the installed one, under ``name``, with its own database.

    Returns without waiting for it: call ``wait_ready``.
    """
    if source is not None:
        workdir = workdir / name
        workdir.mkdir(exist_ok=True)
    port = free_port()
    url = database_url or f"sqlite:///{workdir / 'scimgate.db'}"
    env = {
        **os.environ,
        "SCIMGATE_DATABASE_URL": url,
        "SCIMGATE_PUBLIC_URL": f"http://{HOST}:{port}",
        "SCIMGATE_DEV_MODE": "1",
        "SCIMGATE_LOG_LEVEL": "WARNING",
    }
    if source is not None:
        env["PYTHONPATH"] = str(source)
    cli = _scimgate_command()
    _cli_json([cli, "db", "upgrade"], env)
    # A fresh slug per run, so a shared PostgreSQL database never mixes runs.
    slug = f"bench-{secrets.token_hex(4)}"
    tenant = _cli_json([cli, "tenant", "create", slug, "--json"], env)
    token = _cli_json([cli, "token", "create", slug, "--json", "--name", "scim_load"], env)
    key = (
        _cli_json([cli, "apikey", "create", "--tenant", slug, "--json", "--name", "bench"], env)
        if api_key
        else {}
    )
    log_path = workdir / "scimgate.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [cli, "serve", "--host", HOST, "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(
        name=name,
        endpoint=Endpoint(HOST, port, token["token"]),
        base_path=f"/scim/v2/{slug}",
        process=process,
        log_path=log_path,
        database_url=url,
        tenant_id=int(tenant["id"]),
        api_key=key.get("key"),
        ready_path="/healthz",
        details={
            "database": url.split(":", 1)[0],
            "workers": workers,
            "tenant": slug,
            **({"source": str(source)} if source is not None else {}),
        },
    )
    if url.startswith("postgresql"):
        server.backends = BackendCpu(url)
    return server


def start_reference(workdir: Path) -> Server:
    """Launch scim2-server's ASGI app under uvicorn (see reference_server.py); no waiting."""
    port = free_port()
    token = secrets.token_urlsafe(24)
    log_path = workdir / "scim2-server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                str(_BENCH_DIR / "reference_server.py"),
                "--port",
                str(port),
                "--token",
                token,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Server(
        name="scim2-server",
        endpoint=Endpoint(HOST, port, token),
        base_path="/v2",
        process=process,
        log_path=log_path,
        ready_path="/v2/ServiceProviderConfig",
        details={"storage": "memory", "workers": 1},
    )


def start_floor(workdir: Path) -> Server:
    """Launch bench/floor_plus.py (the project's floor: raw ASGI, sqlite3, orjson, no
    validation, no auth) under the same uvicorn as scimgate; no waiting."""
    port = free_port()
    log_path = workdir / "floor.log"
    env = {
        **os.environ,
        "FLOOR_DB": str(workdir / "floor.db"),
        "FLOOR_BASE": f"http://{HOST}:{port}/v2",
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--app-dir",
                str(_BENCH_DIR),
                "floor_plus:app",
                "--host",
                HOST,
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
                "--no-server-header",
                "--timeout-keep-alive",
                "75",
            ],
            env=env,
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Server(
        name="floor",
        endpoint=Endpoint(HOST, port, "none"),
        base_path="/v2",
        process=process,
        log_path=log_path,
        ready_path="/v2/ServiceProviderConfig",
        details={"storage": "sqlite3", "workers": 1},
    )


def make_workdir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="scim_load-")
