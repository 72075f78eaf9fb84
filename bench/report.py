"""The table and the JSON figures of the default run, with the targets beside them."""

from __future__ import annotations

from typing import Any

from phases import PhaseResult

SCIMGATE = "scimgate"
REFERENCE = "scim2-server"
FLOOR = "floor"  # bench/floor_plus.py: raw ASGI + sqlite3 + orjson, no validation, no auth
# Single-resource operations: scimgate at most this many times the floor's CPU per request.
FLOOR_TARGET_RATIO = 2.0
SINGLE_RESOURCE_OPS = frozenset(
    {
        "create_user",
        "get_user",
        "filter_eq_hit",
        "filter_eq_miss",
        "put_user",
        "patch_deactivate",
        "create_group",
        "add_member",
        "remove_member",
        "get_group_no_members",
        "delete_user",
    }
)

# Server CPU per request, scimgate on SQLite with one process (the targets).
TARGETS_US: dict[str, float] = {
    "create_user": 700,
    "get_user": 400,
    "filter_eq_hit": 500,
    "filter_eq_miss": 500,
    "list_page_100": 15_000,
    "put_user": 650,
    "patch_deactivate": 550,
    "add_member": 1_000,
    "remove_member": 1_000,
    "get_group_no_members": 500,
}
# At the largest tenant or group size, at most this many times the cost at the smallest.
SCALE_TARGET_RATIO = 1.5

# results[op][server] -> the phase, or None when it could not run.
Results = dict[str, dict[str, PhaseResult | None]]


def fmt_us(value: float) -> str:
    return f"{value / 1000:.1f} ms" if value >= 10_000 else f"{value:.0f} µs"


def ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 and numerator > 0 else None


def fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _server_cells(result: PhaseResult | None) -> str:
    if result is None:
        return f"{'not run':>45}"
    # '*': stopped at the phase time limit; '!': errors.
    flags = ("*" if result.sent < result.planned else "") + ("!" if result.error_count else "")
    return (
        f"{result.sent:>6} {result.ops_per_s:7.0f} {result.p50_ms:7.2f} {result.p99_ms:7.2f} "
        f"{fmt_us(result.server_cpu_us):>10}{flags:2}"
    )


def target_verdict(
    op: str, result: PhaseResult | None, applies: bool
) -> tuple[float | None, bool | None]:
    """The target and whether it is met; None when unknown or not this configuration's."""
    target = TARGETS_US.get(op)
    if target is None or result is None or result.failed or not applies:
        return target, None
    return target, result.server_cpu_us <= target


def suite_table(results: Results, servers: list[str], header: str, targets_apply: bool) -> str:
    both = SCIMGATE in servers and REFERENCE in servers
    floor = SCIMGATE in servers and FLOOR in servers
    lines = [header, ""]
    top = f"{'':22} |" + "".join(f" {name:^45} |" for name in servers)
    cols = f"{'operation':22} |" + "".join(
        f" {'reqs':>6} {'ops/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'cpu/req':>12} |" for _ in servers
    )
    if floor:
        top += f" {'cpu ratio':>9} |"
        cols += f" {'sg/floor':>9} |"
    if both:
        top += f" {'cpu ratio':>9} |"
        cols += f" {'ref / sg':>9} |"
    if SCIMGATE in servers:
        top += " target: scimgate cpu/req"
    lines += [top, cols, "-" * (len(cols) + 20)]
    for op, by_server in results.items():
        row = f"{op:22} |" + "".join(f" {_server_cells(by_server.get(name))} |" for name in servers)
        mine = by_server.get(SCIMGATE)
        if floor:
            row += f" {fmt_ratio(_cpu_ratio(mine, by_server.get(FLOOR))):>9} |"
        if both:
            row += f" {fmt_ratio(_cpu_ratio(by_server.get(REFERENCE), mine)):>9} |"
        if floor and op in SINGLE_RESOURCE_OPS:
            value = _cpu_ratio(mine, by_server.get(FLOOR))
            verdict = "?" if value is None else ("met" if value <= FLOOR_TARGET_RATIO else "MISSED")
            if not targets_apply:
                verdict = "(for SQLite, 1 process)"
            row += f" <= {FLOOR_TARGET_RATIO:.0f}x floor {verdict}"
        elif SCIMGATE in servers and not floor:
            target, met = target_verdict(op, by_server.get(SCIMGATE), targets_apply)
            if target is not None:
                verdict = "?" if met is None else ("met" if met else "MISSED")
                if not targets_apply:
                    verdict = "(for SQLite, 1 process)"
                row += f" <= {fmt_us(target):>7} {verdict}"
        lines.append(row)
    lines += [
        "",
        "cpu/req: server CPU time per request (utime+stime of the server process and its"
        " workers); '*' stopped at the phase time limit; '!' errors: "
        + (_error_lines(results) or "none"),
        client_cpu_line(results, servers),
        *db_cpu_lines(results),
        others_line(results),
    ]
    if floor:
        lines += ["", *cpu_summary(results, servers)]
    return "\n".join(lines)


def cpu_summary(results: Results, servers: list[str]) -> list[str]:
    """Server CPU per request only, one column per server, and the two ratios."""
    names = [n for n in (SCIMGATE, REFERENCE, FLOOR) if n in servers]
    head = f"{'server cpu/req':22} |" + "".join(f" {n:>12} |" for n in names)
    head += f" {'sg/floor':>9} |" + (f" {'ref / sg':>9} |" if REFERENCE in names else "")
    rows = [head, "-" * len(head)]
    for op, by in results.items():
        cells = "".join(
            f" {fmt_us(r.server_cpu_us) if (r := by.get(n)) is not None else 'n/a':>12} |"
            for n in names
        )
        mine = by.get(SCIMGATE)
        row = f"{op:22} |{cells} {fmt_ratio(_cpu_ratio(mine, by.get(FLOOR))):>9} |"
        if REFERENCE in names:
            row += f" {fmt_ratio(_cpu_ratio(by.get(REFERENCE), mine)):>9} |"
        rows.append(row)
    return rows


def _cpu_ratio(top: PhaseResult | None, bottom: PhaseResult | None) -> float | None:
    if top is None or bottom is None:
        return None
    return ratio(top.server_cpu_us, bottom.server_cpu_us)


def _error_lines(results: Results) -> str:
    found = []
    for op, by_server in results.items():
        for name, result in by_server.items():
            if result is None:
                found.append(f"\n  {name} {op}: not run (an earlier phase failed)")
            elif result.error_count:
                kinds = ", ".join(f"{k}: {v}" for k, v in result.errors.items())
                found.append(f"\n  {name} {op}: {result.error_count}/{result.sent} ({kinds})")
                found += [f"\n      e.g. {sample}" for sample in result.samples[:2]]
    return "".join(found)


def client_cpu_line(results: Results, servers: list[str]) -> str:
    parts = []
    for name in servers:
        phases = [r for by in results.values() if (r := by.get(name)) is not None and r.sent]
        if phases:
            per_request = sorted(r.client_cpu_us for r in phases)
            share = max(
                (r.client_cpu_us * r.sent / 1e6 / r.elapsed_s for r in phases if r.elapsed_s),
                default=0.0,
            )
            parts.append(
                f"{name}: median {per_request[len(per_request) // 2]:.0f} µs/req,"
                f" at most {share:.0%} of a core"
            )
    return "client (this process) CPU: " + ("; ".join(parts) or "n/a")


def db_cpu_lines(results: Results) -> list[str]:
    """PostgreSQL: the backends' CPU per request beside scimgate's own (not in cpu/req)."""
    cells = [
        f"{op:22} {fmt_us(r.db_cpu_us):>9}  + {fmt_us(r.server_cpu_us):>9}"
        f"  = {fmt_us(r.db_cpu_us + r.server_cpu_us):>9}"
        for op, by in results.items()
        if (r := by.get(SCIMGATE)) is not None and r.db_cpu_us
    ]
    if not cells:
        return []
    return [
        "PostgreSQL backends' CPU per request (+ scimgate's = both):",
        *(f"  {c}" for c in cells),
    ]


def others_line(results: Results) -> str:
    """How much CPU other processes took during the phases: figures from a busy box mislead."""
    loads = [r.others_cores for by in results.values() for r in by.values() if r is not None]
    if not loads:
        return ""
    worst = max(loads)
    warning = "  (busy machine: rerun when it is idle)" if worst > 0.25 else ""
    return f"other processes' CPU during the phases: at most {worst:.2f} cores{warning}"


def suite_json(results: Results, servers: list[str], targets_apply: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"servers": {}, "ratios": {}, "targets": {}}
    for name in servers:
        out["servers"][name] = {
            op: (r.as_json() if (r := by.get(name)) is not None else None)
            for op, by in results.items()
        }
    for op, by in results.items():
        mine, theirs, bare = by.get(SCIMGATE), by.get(REFERENCE), by.get(FLOOR)
        if mine is not None and bare is not None:
            out.setdefault("floor_ratios", {})[op] = {
                "server_cpu_us_per_req": _rounded(ratio(mine.server_cpu_us, bare.server_cpu_us)),
            }
        if mine is not None and theirs is not None:
            out["ratios"][op] = {
                "server_cpu_us_per_req": _rounded(ratio(mine.server_cpu_us, theirs.server_cpu_us)),
                "ops_per_s": _rounded(ratio(mine.ops_per_s, theirs.ops_per_s)),
                "p50_ms": _rounded(ratio(mine.p50_ms, theirs.p50_ms)),
                "p99_ms": _rounded(ratio(mine.p99_ms, theirs.p99_ms)),
            }
        target, met = target_verdict(op, mine, targets_apply)
        if target is not None and SCIMGATE in servers:
            out["targets"][op] = {"server_cpu_us_per_req": target, "met": met}
    return out


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def failed_ops(results: Results) -> list[str]:
    """``server:op`` for each operation that did not succeed once (exit status 1)."""
    return [
        f"{name}:{op}"
        for op, by in results.items()
        for name, result in by.items()
        if result is None or result.failed
    ]
