"""One measured phase: N requests of one operation, with server and client CPU around it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from httpload import BodyCheck, LoadResult, Pool, Request
from payloads import resource_id
from pgstat import used
from procstat import machine_busy_seconds, tree_cpu_seconds
from servers import Server

OK = frozenset({200})
CREATED = frozenset({201})
# A PATCH may answer 200 with the resource or 204 (RFC 7644 §3.5.2).
PATCHED = frozenset({200, 204})
DELETED = frozenset({204})


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds every phase obeys."""

    time_limit_s: float


@dataclass(slots=True)
class PhaseResult:
    op: str
    planned: int
    sent: int
    errors: dict[str, int]
    elapsed_s: float
    p50_ms: float
    p99_ms: float
    server_cpu_us: float
    client_cpu_us: float
    # CPU the rest of the machine used meanwhile, in cores: a busy machine skews the figures.
    others_cores: float = 0.0
    # PostgreSQL: CPU of the database backends serving the server, per request.
    db_cpu_us: float = 0.0
    # Scale mode: the tenant or group size the phase ran at.
    size: int | None = None
    samples: list[str] = field(default_factory=list)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def ops_per_s(self) -> float:
        return self.sent / self.elapsed_s if self.elapsed_s else 0.0

    @property
    def failed(self) -> bool:
        """Nothing succeeded: the operation does not work on this server."""
        return self.sent == 0 or self.error_count >= self.sent

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "requests": self.sent,
            "planned": self.planned,
            "errors": self.error_count,
            "ops_per_s": round(self.ops_per_s, 1),
            "p50_ms": round(self.p50_ms, 3),
            "p99_ms": round(self.p99_ms, 3),
            "server_cpu_us_per_req": round(self.server_cpu_us, 1),
            "client_cpu_us_per_req": round(self.client_cpu_us, 1),
            "elapsed_s": round(self.elapsed_s, 3),
            "other_processes_cores": round(self.others_cores, 2),
        }
        if self.db_cpu_us:
            out["db_backend_cpu_us_per_req"] = round(self.db_cpu_us, 1)
        if self.errors:
            out["error_kinds"] = dict(self.errors)
            out["error_samples"] = self.samples
        if self.size is not None:
            out["size"] = self.size
        return out


def measure(
    runner: asyncio.Runner,
    server: Server,
    pool: Pool,
    op: str,
    requests: Sequence[Request],
    expect: frozenset[int],
    limits: Limits,
    *,
    check: BodyCheck | None = None,
    keep_bodies: bool = False,
    size: int | None = None,
) -> tuple[PhaseResult, LoadResult]:
    """Run one phase; CPU readings bracket it as tightly as the client allows."""
    backends_before = server.backends.seconds() if server.backends is not None else {}
    machine_before = machine_busy_seconds()
    server_before = tree_cpu_seconds(server.pid)
    client_before = time.process_time()
    load = runner.run(
        pool.run(
            requests,
            expect,
            time_limit_s=limits.time_limit_s,
            check=check,
            keep_bodies=keep_bodies,
        )
    )
    client_after = time.process_time()
    server_after = tree_cpu_seconds(server.pid)
    machine = machine_busy_seconds() - machine_before
    db_cpu = used(backends_before, server.backends.seconds()) if server.backends is not None else 0
    server_cpu, client_cpu = server_after - server_before, client_after - client_before
    per_request = 1e6 / load.sent if load.sent else 0.0
    result = PhaseResult(
        op=op,
        planned=len(requests),
        sent=load.sent,
        errors=dict(load.errors),
        elapsed_s=load.elapsed_s,
        p50_ms=load.percentile_ms(0.50),
        p99_ms=load.percentile_ms(0.99),
        server_cpu_us=server_cpu * per_request,
        client_cpu_us=client_cpu * per_request,
        others_cores=max(0.0, machine - server_cpu - client_cpu - db_cpu)
        / max(load.elapsed_s, 1e-9),
        db_cpu_us=db_cpu * per_request,
        size=size,
        samples=load.samples,
    )
    return result, load


def ids_from(load: LoadResult, count: int) -> list[str | None]:
    """The ids of the resources a create phase made, by request index (None: not created)."""
    found: list[str | None] = [None] * count
    for index, body in load.bodies.items():
        try:
            found[index] = resource_id(body)
        except ValueError:
            continue
    return found
