"""scim_load: SCIM load benchmark of scimgate, with scim2-server as the comparison point.

Starts both servers on 127.0.0.1 (scimgate on a fresh SQLite file unless
--database-url), drives each operation an IdP sends with a small keep-alive
client, and prints per operation ops/s, p50/p99 latency and the server's CPU
time per request, the ratios scimgate / scim2-server, the targets, then one
JSON line. See bench/README.md.

    .venv/bin/python bench/scim_load.py                # default run, ~2-3 minutes
    .venv/bin/python bench/scim_load.py --scale        # 1k/10k/100k users and members
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import secrets
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import orjson

import pgstat
from httpload import Pool
from phases import Limits, PhaseResult
from report import FLOOR, REFERENCE, SCIMGATE, Results, failed_ops, fmt_us, suite_json, suite_table
from scale import ScaleRun, ScaleSizes, run_scale, scale_json, scale_table
from servers import (
    Server,
    ServerFailed,
    make_workdir,
    start_floor,
    start_reference,
    start_scimgate,
)
from suite import PHASES, Suite, SuiteSizes

# Even a late phase gets this long: enough requests for a CPU reading above /proc's 10 ms tick.
_MIN_PHASE_S = 2.0


def _sizes(text: str) -> list[int]:
    try:
        values = [int(part.replace("_", "").replace("k", "000")) for part in text.split(",")]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected sizes like 1k,10k,100k: {text!r}") from exc
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("sizes must be positive")
    return values


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scim_load", description=__doc__.splitlines()[0] if __doc__ else None
    )
    add = parser.add_argument
    add("--requests", type=_positive, default=2000, help="requests per cheap phase [2000]")
    add(
        "--heavy-requests",
        type=_positive,
        default=200,
        help="list pages of 100, and groups each given 100 members in one PATCH [200]",
    )
    add("--concurrency", type=_positive, default=4, help="keep-alive connections per server [4]")
    add("--warmup", type=_positive, default=50, help="users created unmeasured first [50]")
    add("--phase-time-limit", type=float, default=10.0, help="seconds per phase at most [10]")
    add(
        "--time-budget",
        type=float,
        default=165.0,
        help="seconds for the whole default run [165]: its phases share what start-up left,"
        " each at most --phase-time-limit",
    )
    add(
        "--servers",
        default=f"{SCIMGATE},{REFERENCE},{FLOOR}",
        help=f"comma-separated subset of {SCIMGATE},{REFERENCE},{FLOOR} (default run only;"
        f" --scale ignores {FLOOR})",
    )
    add("--database-url", help="scimgate's database (default: a fresh SQLite file)")
    add("--workers", type=_positive, default=1, help="scimgate worker processes [1]")
    add("--seed", type=int, default=7, help="random seed (same requests on every server)")
    add(
        "--analyze",
        action="store_true",
        help="PostgreSQL: ANALYZE after create_user, as autovacuum would where it is on"
        " (it is off on some machines, and plans on tables never analyzed differ)",
    )
    add(
        "--reference-tree",
        type=Path,
        help="serve the scimgate package in this directory (an older tree's src/) in"
        " scim2-server's column, so that 'ref / sg' reads before ÷ after",
    )
    scale = parser.add_argument_group("--scale mode (not run in CI)")
    scale.add_argument("--scale", action="store_true", help="measure growth with tenant size")
    scale.add_argument("--tenant-sizes", type=_sizes, default=[1000, 10_000, 100_000])
    scale.add_argument("--group-sizes", type=_sizes, default=[100, 10_000, 100_000])
    scale.add_argument("--scale-requests", type=_positive, default=500, help="per phase [500]")
    scale.add_argument(
        "--reference-max",
        type=_sizes,
        default=[10_000],
        help="largest size seeded into scim2-server over HTTP [10k]",
    )
    scale.add_argument("--seed-time-limit", type=float, default=900.0, help="seconds [900]")
    return parser


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


@contextmanager
def _servers(args: argparse.Namespace, workdir: Path) -> Iterator[list[Server]]:
    wanted = [name.strip() for name in args.servers.split(",") if name.strip()]
    if args.scale:
        wanted = [name for name in wanted if name != FLOOR]
    unknown = set(wanted) - {SCIMGATE, REFERENCE, FLOOR}
    if unknown or not wanted:
        raise SystemExit(
            f"--servers: unknown {sorted(unknown)}; pick from {SCIMGATE},{REFERENCE},{FLOOR}"
        )
    started: list[Server] = []
    try:
        # scim2-server first: it loads while scimgate's CLI steps run.
        if REFERENCE in wanted and args.reference_tree is not None:
            # Another scimgate tree in the reference column: before ÷ after in one run.
            started.append(
                start_scimgate(
                    workdir,
                    database_url=args.database_url,
                    workers=args.workers,
                    source=args.reference_tree,
                    name=REFERENCE,
                )
            )
        elif REFERENCE in wanted:
            started.append(start_reference(workdir))
        if FLOOR in wanted:
            started.append(start_floor(workdir))
        if SCIMGATE in wanted:
            scimgate = start_scimgate(workdir, database_url=args.database_url, workers=args.workers)
            started.insert(0, scimgate)
        for server in started:
            server.wait_ready()
        yield started
    finally:
        for server in started:
            server.stop()


def _config(args: argparse.Namespace, servers: list[Server]) -> dict[str, Any]:
    sizes: dict[str, Any] = (
        {
            "tenant_sizes": args.tenant_sizes,
            "group_sizes": args.group_sizes,
            "requests": args.scale_requests,
            "reference_max": max(args.reference_max),
        }
        if args.scale
        else {"requests": args.requests, "heavy_requests": args.heavy_requests}
    )
    return {
        **sizes,
        "concurrency": args.concurrency,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "servers": {s.name: s.details for s in servers},
    }


def _header(args: argparse.Namespace, servers: list[Server]) -> str:
    parts = [f"scim_load on {os.cpu_count()} CPUs, concurrency {args.concurrency}"]
    for server in servers:
        details = ", ".join(f"{k}={v}" for k, v in server.details.items() if k != "tenant")
        parts.append(f"{server.name} ({details})")
    return "; ".join(parts)


def _run_default(
    args: argparse.Namespace, runner: asyncio.Runner, servers: list[Server], pools: list[Pool]
) -> tuple[str, dict[str, Any], bool]:
    sizes = SuiteSizes(args.requests, args.heavy_requests, args.warmup)
    limits = Limits(args.phase_time_limit)
    run_tag = secrets.token_hex(3)
    suites = [
        Suite(runner, s, p, sizes, limits, run_tag, args.seed)
        for s, p in zip(servers, pools, strict=True)
    ]
    for suite in suites:
        suite.warm_up()
    results: Results = {}
    # The budget counts from the start: server start-up and warm-up eat into it too.
    deadline = args.started + args.time_budget
    remaining = len(PHASES) * len(suites)
    # Phase by phase across servers: drift over the run hits both sides of a ratio.
    for op, phase in PHASES:
        results[op] = {}
        for suite in suites:
            share = (deadline - time.monotonic()) / remaining
            suite.limits = Limits(max(_MIN_PHASE_S, min(args.phase_time_limit, share)))
            remaining -= 1
            result: PhaseResult | None = phase(suite)
            results[op][suite.server.name] = result
            _progress(suite.server.name, op, result)
        if op == "create_user" and args.analyze and _on_postgresql(args):
            pgstat.analyze(args.database_url)
    names = [s.name for s in servers]
    # The targets are set for scimgate on SQLite in one process.
    on_sqlite = not args.database_url or args.database_url.startswith("sqlite")
    targets_apply = on_sqlite and args.workers == 1
    table = suite_table(results, names, _header(args, servers), targets_apply)
    figures = suite_json(results, names, targets_apply)
    failures = failed_ops(results)
    figures["failed_ops"] = failures
    return table, figures, not failures


def _on_postgresql(args: argparse.Namespace) -> bool:
    return bool(args.database_url) and str(args.database_url).startswith("postgresql")


def _progress(server: str, op: str, result: PhaseResult | None) -> None:
    if result is None:
        print(f"  {server}: {op} not run", file=sys.stderr, flush=True)
        return
    print(
        f"  {server}: {op} {result.sent} req in {result.elapsed_s:.1f}s, "
        f"{fmt_us(result.server_cpu_us)}/req server, {result.error_count} errors",
        file=sys.stderr,
        flush=True,
    )


def _run_scale(
    args: argparse.Namespace, runner: asyncio.Runner, servers: list[Server], pools: list[Pool]
) -> tuple[str, dict[str, Any], bool]:
    sizes = ScaleSizes(
        tenant_sizes=sorted(args.tenant_sizes),
        group_sizes=sorted(args.group_sizes),
        requests=args.scale_requests,
        reference_max=max(args.reference_max),
        seed_time_limit_s=args.seed_time_limit,
    )
    limits = Limits(args.phase_time_limit)
    run_tag = secrets.token_hex(3)
    runs = [
        ScaleRun(runner, s, p, sizes, limits, run_tag, args.seed)
        for s, p in zip(servers, pools, strict=True)
    ]
    try:
        figures = run_scale(runs, sizes)
    finally:
        for run in runs:
            run.close()
    failures = [failure for run in runs for failure in run.failures] + [
        f"{name}:{op}@{size}"
        for name, by_op in figures.items()
        for op, by_size in by_op.items()
        for size, result in by_size.items()
        if result is not None and result.failed
    ]
    out = scale_json(figures) | {"failed_ops": failures}
    table = scale_table(figures, _header(args, servers))
    if failures:
        table += "\nfailed: " + ", ".join(failures)
    return table, out, not failures


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    started = args.started = time.monotonic()
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(make_workdir()))
        try:
            servers = stack.enter_context(_servers(args, workdir))
        except ServerFailed as exc:
            print(f"scim_load: {exc}", file=sys.stderr)
            return 2
        runner = stack.enter_context(asyncio.Runner(loop_factory=_loop_factory()))
        pools = [Pool(s.endpoint, args.concurrency) for s in servers]
        for pool in pools:
            stack.callback(pool.close)
        run = _run_scale if args.scale else _run_default
        table, figures, ok = run(args, runner, servers, pools)
        for server in servers:
            if server.process.poll() is not None:
                ok = False
                print(f"{server.name} exited early:\n{server.log_tail()}", file=sys.stderr)
    print(table)
    line = {
        "bench": "scim_load",
        "mode": "scale" if args.scale else "default",
        "config": _config(args, servers),
        **figures,
        "elapsed_s": round(time.monotonic() - started, 1),
        "ok": ok,
    }
    print(orjson.dumps(line).decode())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
