"""--scale: does one request cost the same at 1k, 10k and 100k users or members?

Lookups (GET by id, filter ``userName eq`` hit) run at each tenant size;
single-member PATCHes (add one, remove one) and GET group without members run
at each group size. scimgate is seeded straight into its database
(seed.py); scim2-server only over HTTP, up to ``reference_max`` users or
members, and larger sizes are reported "n/a" for it.
"""

from __future__ import annotations

import asyncio
import random
import sys
from dataclasses import dataclass
from typing import Any

from httpload import LoadResult, Pool, Request
from payloads import (
    Requests,
    add_members,
    expect_total,
    group_document,
    remove_member,
    user_document,
    user_name,
)
from phases import CREATED, OK, PATCHED, Limits, PhaseResult, ids_from, measure
from report import SCALE_TARGET_RATIO, SCIMGATE, fmt_us, ratio
from seed import DirectSeeder
from servers import Server

LOOKUPS = ("get_user", "filter_eq_hit")
MEMBERSHIP = ("add_member", "remove_member", "get_group_no_members")
_HTTP_SEED_BATCH = 1_000


@dataclass(frozen=True, slots=True)
class ScaleSizes:
    tenant_sizes: list[int]
    group_sizes: list[int]
    requests: int
    reference_max: int
    seed_time_limit_s: float


# figures[server][op][size] -> the phase, or None for "n/a"
Figures = dict[str, dict[str, dict[int, PhaseResult | None]]]


class ScaleRun:
    """One server's tenant, grown from size to size."""

    def __init__(
        self,
        runner: asyncio.Runner,
        server: Server,
        pool: Pool,
        sizes: ScaleSizes,
        limits: Limits,
        run_tag: str,
        seed: int,
    ) -> None:
        self._runner = runner
        self.server = server
        self._pool = pool
        self._sizes = sizes
        self._limits = limits
        self._run = run_tag
        self._rng = random.Random(seed)
        self._req = Requests(server.endpoint, server.base_path)
        self._users: list[tuple[int, str]] = []
        self._seeder: DirectSeeder | None = None
        if server.name == SCIMGATE and server.database_url and server.tenant_id is not None:
            self._seeder = DirectSeeder(server.database_url, server.tenant_id)
        # The first users created: the ones single-member PATCHes add and remove.
        self._pool_size = max(1, min(sizes.requests, min(sizes.tenant_sizes) // 2))
        # Setup steps that failed (their sizes then show "n/a"); they fail the run.
        self.failures: list[str] = []

    def close(self) -> None:
        if self._seeder is not None:
            self._seeder.close()

    def practical(self, size: int) -> bool:
        return self._seeder is not None or size <= self._sizes.reference_max

    def _log(self, message: str) -> None:
        print(f"  {self.server.name}: {message}", file=sys.stderr, flush=True)

    def _http(
        self, requests: list[Request], expect: frozenset[int], keep: bool = False
    ) -> LoadResult:
        return self._runner.run(
            self._pool.run(
                requests, expect, time_limit_s=self._sizes.seed_time_limit_s, keep_bodies=keep
            )
        )

    def _create_over_http(self, numbers: list[int]) -> None:
        for start in range(0, len(numbers), _HTTP_SEED_BATCH):
            part = numbers[start : start + _HTTP_SEED_BATCH]
            docs = [user_document(self._run, n) for n in part]
            load = self._http([self._req.create_user(d) for d in docs], CREATED, keep=True)
            ids = ids_from(load, len(part))
            self._users += [(n, i) for n, i in zip(part, ids, strict=True) if i is not None]

    def grow_users(self, total: int) -> None:
        missing = list(range(len(self._users), total))
        if not missing:
            return
        self._log(f"seeding {len(missing)} users (tenant -> {total})")
        if not self._users:  # the first ones over HTTP: the pool, and a doc to copy the shape of
            first, missing = missing[: self._pool_size], missing[self._pool_size :]
            self._create_over_http(first)
            if self._seeder is not None and self._users:
                self._seeder.learn_doc_shape(self._users[0][1])
        if self._seeder is not None:
            self._users += self._seeder.insert_users(self._run, missing)
            self._seeder.analyze()
        else:
            self._create_over_http(missing)

    def warm_up(self) -> None:
        """Every request kind once or more, unmeasured, before the first measured phase."""
        self.grow_users(min(self._sizes.tenant_sizes))
        made = self._http([self._req.create_group(group_document(self._run, 0))], CREATED, True)
        numbers = [n for n, _ in self._users[:20]]
        sample = [i for _, i in self._users[:20]]
        requests = [self._req.get_user(i) for i in sample]
        requests += [self._req.filter_user_name(user_name(self._run, n)) for n in numbers]
        for group in ids_from(made, 1):
            if group is not None:
                requests += [self._req.patch_group(group, add_members([u])) for u in sample]
                requests += [self._req.patch_group(group, remove_member(u)) for u in sample]
                requests += [self._req.get_group_without_members(group)] * 20
        self._http(requests, frozenset({200, 204}))

    def lookups(self, size: int) -> dict[str, PhaseResult]:
        count = self._sizes.requests
        picks = [self._rng.choice(self._users) for _ in range(count)]
        gets = [self._req.get_user(i) for _, i in picks]
        names = [user_name(self._run, self._rng.choice(self._users)[0]) for _ in range(count)]
        filters = [self._req.filter_user_name(n) for n in names]
        return {
            "get_user": self._phase("get_user", gets, OK, size),
            "filter_eq_hit": self._phase("filter_eq_hit", filters, OK, size, total=1),
        }

    def membership(self, size: int) -> dict[str, PhaseResult] | None:
        """Fill a new group with ``size`` members, then add and remove pool users one by one."""
        self.grow_users(self._pool_size + size)
        made = self._http([self._req.create_group(group_document(self._run, size))], CREATED, True)
        group = ids_from(made, 1)[0]
        if group is None:
            self._log(f"could not create a group: {dict(made.errors)} {made.samples}")
            self.failures.append(f"{self.server.name}:create_group@{size}")
            return None
        members = [i for _, i in self._users[self._pool_size : self._pool_size + size]]
        self._log(f"group of {size} members")
        if self._seeder is not None:
            self._seeder.insert_members(group, members)
            self._seeder.analyze()
        else:
            batches = [
                self._req.patch_group(group, add_members(members[s : s + _HTTP_SEED_BATCH]))
                for s in range(0, len(members), _HTTP_SEED_BATCH)
            ]
            self._http(batches, PATCHED)
        joiners = [i for _, i in self._users[: self._pool_size]]
        adds = [self._req.patch_group(group, add_members([u])) for u in joiners]
        added, load = measure(
            self._runner, self.server, self._pool, "add_member", adds, PATCHED, self._limits
        )
        added.size = size
        self._log(f"add_member at {size}: {fmt_us(added.server_cpu_us)}/req")
        # Remove only who joined: a phase cut short by its time limit added fewer.
        removes = [self._req.patch_group(group, remove_member(joiners[k])) for k in load.succeeded]
        gets = [self._req.get_group_without_members(group)] * self._sizes.requests
        return {
            "add_member": added,
            "remove_member": self._phase("remove_member", removes, PATCHED, size),
            "get_group_no_members": self._phase("get_group_no_members", gets, OK, size),
        }

    def _phase(
        self, op: str, requests: list[Request], expect: frozenset[int], size: int, total: int = -1
    ) -> PhaseResult:
        check = expect_total(total) if total >= 0 else None
        result, _ = measure(
            self._runner,
            self.server,
            self._pool,
            op,
            requests,
            expect,
            self._limits,
            check=check,
            size=size,
        )
        self._log(
            f"{op} at {size}: {fmt_us(result.server_cpu_us)}/req, {result.error_count} errors"
        )
        return result


def run_scale(runs: list[ScaleRun], sizes: ScaleSizes) -> Figures:
    figures: Figures = {r.server.name: {op: {} for op in LOOKUPS + MEMBERSHIP} for r in runs}
    for run in runs:
        run.warm_up()
    for size in sorted(sizes.tenant_sizes):
        for run in runs:
            by_op = figures[run.server.name]
            if not run.practical(size):
                for op in LOOKUPS:
                    by_op[op][size] = None
                continue
            run.grow_users(size)
            for op, result in run.lookups(size).items():
                by_op[op][size] = result
    for size in sorted(sizes.group_sizes):
        for run in runs:
            by_op = figures[run.server.name]
            found = run.membership(size) if run.practical(size) else None
            for op in MEMBERSHIP:
                by_op[op][size] = None if found is None else found[op]
    return figures


def _size_label(size: int) -> str:
    return f"{size // 1000}k" if size >= 1000 and size % 1000 == 0 else str(size)


def _growth(by_size: dict[int, PhaseResult | None]) -> tuple[float | None, int, int]:
    """Cost at the largest measured size over the cost at the smallest."""
    points = [
        (size, result)
        for size, result in sorted(by_size.items(), key=lambda item: item[0])
        if result is not None and not result.failed
    ]
    if len(points) < 2:
        return None, 0, 0
    (small_size, small), (large_size, large) = points[0], points[-1]
    return ratio(large.server_cpu_us, small.server_cpu_us), small_size, large_size


def scale_table(figures: Figures, header: str) -> str:
    servers = list(figures)
    lines = [header, ""]
    cols = f"{'operation':22} {'size':>12} |" + "".join(
        f" {name + ' cpu/req':>22} {'p50 ms':>7} {'err':>5} |" for name in servers
    )
    lines += [cols, "-" * len(cols)]
    ops = list(next(iter(figures.values())))
    for op in ops:
        kind = "users" if op in LOOKUPS else "members"
        sizes = sorted({s for name in servers for s in figures[name][op]})
        for size in sizes:
            row = f"{op:22} {kind + '=' + _size_label(size):>12} |"
            for name in servers:
                result = figures[name][op].get(size)
                if result is None:
                    row += f" {'n/a':>22} {'':>7} {'':>5} |"
                else:
                    row += (
                        f" {fmt_us(result.server_cpu_us):>22} {result.p50_ms:7.2f}"
                        f" {result.error_count:>5} |"
                    )
            lines.append(row)
        growth = f"{'  growth':22} {'':>12} |"
        for name in servers:
            value, small, large = _growth(figures[name][op])
            text = "n/a"
            if value is not None:
                text = f"{value:.2f}x ({_size_label(large)} vs {_size_label(small)})"
                if name == SCIMGATE:
                    met = value <= SCALE_TARGET_RATIO and large == max(figures[name][op])
                    text += " met" if met else " MISSED"
            growth += f" {text:>36} |"
        lines += [growth, ""]
    lines.append(
        f"growth: cpu/req at the largest size over the smallest; target (scimgate) <="
        f" {SCALE_TARGET_RATIO}x, at the largest size asked for"
    )
    loads = [
        r.others_cores
        for by_op in figures.values()
        for by_size in by_op.values()
        for r in by_size.values()
        if r is not None
    ]
    if loads:
        lines.append(f"other processes' CPU during the phases: at most {max(loads):.2f} cores")
    return "\n".join(lines)


def scale_json(figures: Figures) -> dict[str, Any]:
    out: dict[str, Any] = {"servers": {}, "growth": {}}
    for name, by_op in figures.items():
        out["servers"][name] = {
            op: {str(s): (r.as_json() if r is not None else None) for s, r in by_size.items()}
            for op, by_size in by_op.items()
        }
        out["growth"][name] = {}
        for op, by_size in by_op.items():
            value, small, large = _growth(by_size)
            entry: dict[str, Any] = {"ratio": None if value is None else round(value, 3)}
            if value is not None:
                entry |= {"smallest": small, "largest": large}
                if name == SCIMGATE:
                    entry["met"] = value <= SCALE_TARGET_RATIO and large == max(by_size)
            out["growth"][name][op] = entry
    return out
