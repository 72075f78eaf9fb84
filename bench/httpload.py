"""A small HTTP/1.1 keep-alive client on asyncio streams, and the loop that drives a phase.

Why not httpx or aiohttp: on a 2-core box the load generator competes with the
server for CPU, and a general client spends 4-50x more per request than this
one. Requests are serialised before a phase starts, so the phase itself only
writes prepared bytes, reads the status line, the headers and the body
(Content-Length or chunked; none for 1xx/204/304) and records the latency.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

# A check on a response body beyond its status; returns an error label or None.
BodyCheck = Callable[[bytes], str | None]


@dataclass(frozen=True, slots=True)
class Request:
    """A request serialised once, before the phase that sends it."""

    raw: bytes
    method: str
    target: str


@dataclass(frozen=True, slots=True)
class Endpoint:
    host: str
    port: int
    token: str

    def request(self, method: str, target: str, body: bytes | None = None) -> Request:
        head = [
            f"{method} {target} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            f"Authorization: Bearer {self.token}",
            "Accept: application/scim+json",
        ]
        if body is not None:
            head.append("Content-Type: application/scim+json")
        head.append(f"Content-Length: {0 if body is None else len(body)}")
        raw = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + (body or b"")
        return Request(raw, method, target)


class ProtocolError(Exception):
    """The server's answer is not HTTP/1.1 this client understands."""


class Connection:
    """One keep-alive connection; reopened after the server closes it or a failure."""

    def __init__(self, endpoint: Endpoint) -> None:
        self._endpoint = endpoint
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def send(self, request: Request) -> tuple[int, bytes]:
        reused = self._writer is not None
        try:
            return await self._exchange(request)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            # A server may close a keep-alive connection that sat idle (uvicorn's
            # keep-alive timeout, e.g. while the bench seeds a database); the request
            # never reached it, so sending it again on a new connection is safe.
            partial = exc.partial if isinstance(exc, asyncio.IncompleteReadError) else b""
            if not reused or partial:
                raise
            return await self._exchange(request)

    async def _exchange(self, request: Request) -> tuple[int, bytes]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(
                self._endpoint.host, self._endpoint.port
            )
        reader, writer = self._reader, self._writer
        assert reader is not None
        try:
            writer.write(request.raw)
            head = await reader.readuntil(b"\r\n\r\n")
            status, body, keep = await _read_response(reader, head, request.method)
        except BaseException:
            self.close()
            raise
        if not keep:
            self.close()
        return status, body

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


async def _read_response(
    reader: asyncio.StreamReader, head: bytes, method: str
) -> tuple[int, bytes, bool]:
    if not head.startswith(b"HTTP/1."):
        raise ProtocolError(f"not an HTTP/1.x status line: {head[:40]!r}")
    status = int(head[9:12])
    lowered = head.lower()
    keep = b"\r\nconnection: close" not in lowered and head.startswith(b"HTTP/1.1")
    if status in (204, 304) or status < 200 or method == "HEAD":
        return status, b"", keep
    at = lowered.find(b"\r\ncontent-length:")
    if at >= 0:
        end = lowered.index(b"\r\n", at + 2)
        length = int(lowered[at + 17 : end])
        return status, await reader.readexactly(length), keep
    if b"\r\ntransfer-encoding: chunked" in lowered:
        return status, await _read_chunked(reader), keep
    # No length: the body runs to the end of the connection (RFC 9112 §6.3).
    return status, await reader.read(), False


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    for _ in range(1_000_000):  # bounded: no server sends a million chunks to this bench
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0], 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                pass
            return b"".join(parts)
        chunk = await reader.readexactly(size + 2)
        parts.append(chunk[:-2])
    raise ProtocolError("too many chunks")


@dataclass(slots=True)
class LoadResult:
    """What one phase measured on the client side."""

    sent: int = 0
    elapsed_s: float = 0.0
    latencies_ns: list[int] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    # Bodies kept when the caller asks (e.g. to read the ids of created resources).
    bodies: dict[int, bytes] = field(default_factory=dict)
    # Indexes of the requests answered as expected.
    succeeded: list[int] = field(default_factory=list)
    # The first few unexpected answers, for the report.
    samples: list[str] = field(default_factory=list)

    @property
    def ok(self) -> int:
        return self.sent - sum(self.errors.values())

    def percentile_ms(self, fraction: float) -> float:
        if not self.latencies_ns:
            return 0.0
        ordered = sorted(self.latencies_ns)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] / 1e6


class Pool:
    """``concurrency`` connections to one endpoint, reused across phases."""

    def __init__(self, endpoint: Endpoint, concurrency: int) -> None:
        self.endpoint = endpoint
        self._connections = [Connection(endpoint) for _ in range(concurrency)]

    def close(self) -> None:
        for conn in self._connections:
            conn.close()

    async def run(
        self,
        requests: Sequence[Request],
        expect: frozenset[int],
        *,
        time_limit_s: float,
        check: BodyCheck | None = None,
        keep_bodies: bool = False,
    ) -> LoadResult:
        """Send ``requests`` over the pool's connections; stop early at ``time_limit_s``."""
        result = LoadResult()
        next_index = iter(range(len(requests)))
        started = time.perf_counter()
        deadline = started + time_limit_s

        async def worker(conn: Connection) -> None:
            clock = time.perf_counter_ns
            for index in next_index:
                if time.perf_counter() > deadline:
                    return
                request = requests[index]
                result.sent += 1
                t0 = clock()
                try:
                    status, body = await conn.send(request)
                except (OSError, asyncio.IncompleteReadError, ProtocolError, ValueError) as exc:
                    result.errors[type(exc).__name__] += 1
                    continue
                result.latencies_ns.append(clock() - t0)
                if status not in expect:
                    result.errors[f"HTTP {status}"] += 1
                    if len(result.samples) < 3:
                        sample = body[:200].decode("utf-8", "replace")
                        result.samples.append(f"{request.method} {request.target[:80]}: {sample}")
                    continue
                if check is not None and (label := check(body)) is not None:
                    result.errors[label] += 1
                    continue
                result.succeeded.append(index)
                if keep_bodies:
                    result.bodies[index] = body

        tasks = [asyncio.ensure_future(worker(conn)) for conn in self._connections]
        # One watchdog for the whole phase: a hung server costs the grace period, no more.
        _, pending = await asyncio.wait(tasks, timeout=time_limit_s + 30)
        for task in pending:
            task.cancel()
            result.errors["timeout"] += 1
        if pending:
            await asyncio.wait(pending)
            self.close()
        result.elapsed_s = time.perf_counter() - started
        return result
