"""list_memory: does scimgate's memory stay flat while a client pages through a whole tenant?

Seeds a tenant of --users users (100k) straight into scimgate's database
(bench/seed.py), starts ``scimgate serve`` on 127.0.0.1 and reads every user, one
page at a time, over one keep-alive connection, in each of --styles:

- ``scim``: ``GET /Users?startIndex=K&count=100``, K = 1, 101, 201, ... (RFC 7644 index paging)
- ``api``: ``GET /api/v1/tenants/{slug}/users?limit=100&cursor=...`` (the host API's keyset cursor)

Every --sample-every pages it reads the resident memory of the server and its workers
(/proc/PID/status) and prints, per style and pass, RSS first/median/max/last, the
growth max - first, and the latency of the first and the last pages. Then one JSON line.

    .venv/bin/python bench/list_memory.py
    .venv/bin/python bench/list_memory.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

import orjson

from httpload import Connection, Endpoint, ProtocolError
from payloads import Requests, user_document
from phases import CREATED
from procstat import tree_cpu_seconds, tree_memory_bytes
from seed import DirectSeeder
from servers import Server, ServerFailed, make_workdir, start_scimgate

STYLES = ("scim", "api")
_MIB = 1024 * 1024
# Pages whose latency is compared: the first few of a walk against the last few.
_EDGE_PAGES = 10


def _count(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace("k", "000"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a count like 100k: {text!r}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _styles(text: str) -> list[str]:
    chosen = [part.strip() for part in text.split(",") if part.strip()]
    unknown = set(chosen) - set(STYLES)
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"pick from {','.join(STYLES)}: {text!r}")
    return chosen


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="list_memory", description=__doc__.splitlines()[0] if __doc__ else None
    )
    add = parser.add_argument
    add("--users", type=_count, default=100_000, help="users in the tenant [100k]")
    add("--page-size", type=_count, default=100, help="users per page [100]")
    add("--styles", type=_styles, default=list(STYLES), help="scim,api [both]")
    add("--passes", type=_count, default=2, help="walks through the tenant per style [2]")
    add("--sample-every", type=_count, default=10, help="read RSS every N pages [10]")
    add("--database-url", help="scimgate's database (default: a fresh SQLite file)")
    add("--workers", type=_count, default=1, help="scimgate worker processes [1]")
    add(
        "--time-limit",
        type=float,
        default=900.0,
        help="seconds for seeding and paging together [900]; a walk cut short says so",
    )
    return parser


class Sample(NamedTuple):
    page: int
    rss: int  # bytes, server and workers
    anon: int  # the anonymous (heap) part of rss


@dataclass(slots=True)
class Walk:
    """One pass through the tenant in one paging style."""

    style: str
    number: int
    pages: int = 0
    users: int = 0  # distinct ids seen
    total: int | None = None  # totalResults the server reported (scim)
    elapsed_s: float = 0.0
    server_cpu_s: float = 0.0
    complete: bool = False  # reached the last page before the time limit
    latencies_ms: list[float] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def rss_growth(self) -> int:
        return max(s.rss for s in self.samples) - self.samples[0].rss if self.samples else 0


# Given the last body (None before the first page): the next target, or None at the end,
# and the ids on that last page.
NextPage = Callable[[bytes | None], tuple[str | None, list[str]]]


def _scim_pager(server: Server, page_size: int, walk: Walk) -> NextPage:
    state = {"start": 1}

    def next_page(body: bytes | None) -> tuple[str | None, list[str]]:
        ids: list[str] = []
        if body is not None:
            doc = orjson.loads(body)
            ids = [resource["id"] for resource in doc.get("Resources", [])]
            walk.total = int(doc["totalResults"])
            state["start"] += len(ids)
            if not ids or state["start"] > walk.total:
                return None, ids
        target = f"{server.base_path}/Users?startIndex={state['start']}&count={page_size}"
        return target, ids

    return next_page


def _api_pager(server: Server, page_size: int) -> NextPage:
    base = f"/api/v1/tenants/{server.details['tenant']}/users?limit={page_size}"

    def next_page(body: bytes | None) -> tuple[str | None, list[str]]:
        if body is None:
            return base, []
        doc = orjson.loads(body)
        ids = [item["id"] for item in doc["items"]]
        cursor = doc.get("next")
        return (f"{base}&cursor={quote(cursor, safe='')}" if cursor else None), ids

    return next_page


async def _walk(
    server: Server, endpoint: Endpoint, walk: Walk, args: argparse.Namespace, deadline: float
) -> None:
    pager = (
        _scim_pager(server, args.page_size, walk)
        if walk.style == "scim"
        else _api_pager(server, args.page_size)
    )
    conn = Connection(endpoint)
    seen: set[str] = set()
    cpu_before = tree_cpu_seconds(server.pid)
    started = time.perf_counter()
    target, _ = pager(None)
    try:
        while target is not None:
            if time.monotonic() > deadline:
                walk.errors.append("time limit")
                break
            t0 = time.perf_counter_ns()
            try:
                status, body = await conn.send(endpoint.request("GET", target))
            except (OSError, asyncio.IncompleteReadError, ProtocolError) as exc:
                walk.errors.append(f"page {walk.pages + 1}: {type(exc).__name__}")
                break
            walk.latencies_ms.append((time.perf_counter_ns() - t0) / 1e6)
            walk.pages += 1
            if status != 200:
                walk.errors.append(f"page {walk.pages}: HTTP {status} {body[:200]!r}")
                break
            target, ids = pager(body)
            seen.update(ids)
            if walk.pages == 1 or walk.pages % args.sample_every == 0 or target is None:
                walk.samples.append(Sample(walk.pages, *tree_memory_bytes(server.pid)))
        else:
            walk.complete = True
    finally:
        conn.close()
    walk.elapsed_s = time.perf_counter() - started
    walk.server_cpu_s = tree_cpu_seconds(server.pid) - cpu_before
    walk.users = len(seen)
    if walk.complete and walk.users != args.users:
        walk.errors.append(f"saw {walk.users} distinct users, expected {args.users}")
    if walk.total is not None and walk.total != args.users:
        walk.errors.append(f"totalResults {walk.total}, expected {args.users}")


def _seed(server: Server, args: argparse.Namespace, runner: asyncio.Runner) -> None:
    """One user over HTTP (the shape to copy), the rest straight into the database."""
    assert server.database_url is not None
    assert server.tenant_id is not None
    run = secrets.token_hex(3)
    requests = Requests(server.endpoint, server.base_path)
    conn = Connection(server.endpoint)
    try:
        status, body = runner.run(conn.send(requests.create_user(user_document(run, 0))))
    finally:
        conn.close()
    if status not in CREATED:
        raise ServerFailed(f"creating the first user: HTTP {status} {body[:200]!r}")
    first_id = orjson.loads(body)["id"]
    seeder = DirectSeeder(server.database_url, server.tenant_id)
    try:
        seeder.learn_doc_shape(first_id)
        seeder.insert_users(run, range(1, args.users))
        seeder.analyze()
    finally:
        seeder.close()


def _warm_up(
    server: Server, endpoint: Endpoint, style: str, args: argparse.Namespace, runner: asyncio.Runner
) -> None:
    pager = (
        _scim_pager(server, args.page_size, Walk(style, 0))
        if style == "scim"
        else _api_pager(server, args.page_size)
    )
    target, _ = pager(None)
    assert target is not None
    conn = Connection(endpoint)
    try:
        status, body = runner.run(conn.send(endpoint.request("GET", target)))
    finally:
        conn.close()
    if status != 200:
        raise ServerFailed(f"{style} warm-up page: HTTP {status} {body[:200]!r}")


def _mib(value: float) -> str:
    return f"{value / _MIB:8.1f}"


def _median_ms(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def _walk_row(walk: Walk) -> str:
    rss = [s.rss for s in walk.samples] or [0]
    anon = [s.anon for s in walk.samples] or [0]
    first, last = walk.latencies_ms[:_EDGE_PAGES], walk.latencies_ms[-_EDGE_PAGES:]
    cpu_ms = 1000 * walk.server_cpu_s / walk.pages if walk.pages else 0.0
    mark = "" if walk.complete and not walk.errors else " !"
    return (
        f"{walk.style:<5}{walk.number:>5}{walk.pages:>7}{walk.users:>8}{walk.elapsed_s:>8.1f} |"
        f"{_mib(rss[0])}{_mib(statistics.median(rss))}{_mib(max(rss))}{_mib(rss[-1])}"
        f"{walk.rss_growth / _MIB:>+8.1f}{(max(anon) - anon[0]) / _MIB:>+8.1f} |"
        f"{_median_ms(first):>8.2f}{_median_ms(last):>8.2f}{_median_ms(walk.latencies_ms):>8.2f}"
        f"{max(walk.latencies_ms, default=0.0):>8.2f}{cpu_ms:>9.2f}{mark}"
    )


def _tenths(walk: Walk) -> str:
    """RSS and median page latency at each tenth of the walk."""
    if not walk.samples or not walk.latencies_ms:
        return ""
    rss: list[str] = []
    latency: list[str] = []
    for tenth in range(1, 11):
        page = max(1, round(walk.pages * tenth / 10))
        at = min(walk.samples, key=lambda s: abs(s.page - page))
        rss.append(f"{at.rss / _MIB:.0f}")
        chunk = walk.latencies_ms[round(walk.pages * (tenth - 1) / 10) : page]
        latency.append(f"{_median_ms(chunk):.1f}")
    return (
        f"  {walk.style} pass {walk.number} by tenth of the walk: RSS MiB {' '.join(rss)};"
        f" page p50 ms {' '.join(latency)}"
    )


def report(server: Server, args: argparse.Namespace, idle: Sample, walks: list[Walk]) -> str:
    details = ", ".join(f"{k}={v}" for k, v in server.details.items() if k != "tenant")
    lines = [
        f"list_memory on {os.cpu_count()} CPUs: scimgate ({details}), {args.users:,} users,"
        f" pages of {args.page_size}, RSS every {args.sample_every} pages",
        "",
        f"{'':<33} |{'RSS MiB (server and its workers)':^48} |{'page latency ms':^32}  server",
        f"{'style':<5}{'pass':>5}{'pages':>7}{'users':>8}{'time s':>8} |"
        f"{'first':>8}{'median':>8}{'max':>8}{'last':>8}{'growth':>8}{'anon+':>8} |"
        f"{'first10':>8}{'last10':>8}{'median':>8}{'max':>8}{'cpu/page':>9}",
        "-" * 125,
    ]
    lines += [_walk_row(walk) for walk in walks]
    lines.append("")
    lines += [_tenths(walk) for walk in walks]
    every = [s for walk in walks for s in walk.samples]
    if every:
        peak = max(s.rss for s in every)
        lines += [
            "",
            f"RSS before the walks (after one page of each style) {idle.rss / _MIB:.1f} MiB;"
            f" over all walks: first"
            f" {every[0].rss / _MIB:.1f}, max {peak / _MIB:.1f}, last {every[-1].rss / _MIB:.1f},"
            f" growth max - first {(peak - every[0].rss) / _MIB:+.1f} MiB",
        ]
    lines += [f"  {w.style} pass {w.number}: {'; '.join(w.errors)}" for w in walks if w.errors]
    lines.append(
        "growth: max - first sample of the walk (first = after page 1); anon+: the same for the"
        " anonymous part; '!' a walk with errors or cut short"
    )
    return "\n".join(lines)


def _walk_json(walk: Walk) -> dict[str, Any]:
    rss = [s.rss for s in walk.samples] or [0]
    return {
        "style": walk.style,
        "pass": walk.number,
        "pages": walk.pages,
        "users": walk.users,
        "complete": walk.complete,
        "elapsed_s": round(walk.elapsed_s, 2),
        "rss_mib": {
            "first": round(rss[0] / _MIB, 1),
            "median": round(statistics.median(rss) / _MIB, 1),
            "max": round(max(rss) / _MIB, 1),
            "last": round(rss[-1] / _MIB, 1),
            "growth": round(walk.rss_growth / _MIB, 1),
        },
        "page_ms": {
            "first": round(_median_ms(walk.latencies_ms[:_EDGE_PAGES]), 2),
            "last": round(_median_ms(walk.latencies_ms[-_EDGE_PAGES:]), 2),
            "median": round(_median_ms(walk.latencies_ms), 2),
            "max": round(max(walk.latencies_ms, default=0.0), 2),
        },
        "server_cpu_ms_per_page": round(1000 * walk.server_cpu_s / max(1, walk.pages), 2),
        "errors": walk.errors,
    }


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    started = time.monotonic()
    deadline = started + args.time_limit
    with make_workdir() as workdir, asyncio.Runner(loop_factory=_loop_factory()) as runner:
        try:
            server = start_scimgate(
                Path(workdir), database_url=args.database_url, workers=args.workers, api_key=True
            )
            server.wait_ready()
        except ServerFailed as exc:
            print(f"list_memory: {exc}", file=sys.stderr)
            return 2
        walks: list[Walk] = []
        try:
            print(f"  seeding {args.users} users", file=sys.stderr, flush=True)
            _seed(server, args, runner)
            print(f"  seeded in {time.monotonic() - started:.0f}s", file=sys.stderr, flush=True)
            api = Endpoint(server.endpoint.host, server.endpoint.port, server.api_key or "")
            # One page of each style first: what the first request of a kind loads once
            # (imports, compiled queries) is not growth.
            for style in args.styles:
                _warm_up(server, api if style == "api" else server.endpoint, style, args, runner)
            idle = Sample(0, *tree_memory_bytes(server.pid))
            for style in args.styles:
                endpoint = server.endpoint if style == "scim" else api
                for number in range(1, args.passes + 1):
                    walk = Walk(style, number)
                    walks.append(walk)
                    runner.run(_walk(server, endpoint, walk, args, deadline))
                    print(
                        f"  {style} pass {number}: {walk.pages} pages in {walk.elapsed_s:.1f}s,"
                        f" RSS growth {walk.rss_growth / _MIB:+.1f} MiB, errors {walk.errors}",
                        file=sys.stderr,
                        flush=True,
                    )
        except ServerFailed as exc:
            print(f"list_memory: {exc}", file=sys.stderr)
            return 2
        finally:
            died = server.process.poll() is not None
            server.stop()
        if died:
            print(f"scimgate exited early:\n{server.log_tail()}", file=sys.stderr)
    print(report(server, args, idle, walks))
    ok = not died and all(walk.complete and not walk.errors for walk in walks)
    line = {
        "bench": "list_memory",
        "config": {
            "users": args.users,
            "page_size": args.page_size,
            "sample_every": args.sample_every,
            "cpus": os.cpu_count(),
            "server": server.details,
        },
        "idle_rss_mib": round(idle.rss / _MIB, 1),
        "walks": [_walk_json(walk) for walk in walks],
        "elapsed_s": round(time.monotonic() - started, 1),
        "ok": ok,
    }
    print(orjson.dumps(line).decode())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
