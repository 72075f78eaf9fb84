"""CPU time of a server and every process under it, read from /proc.

``utime + stime`` of /proc/PID/stat covers every thread of a process, live or
exited. Worker processes (``scimgate serve --workers N``, uvicorn's
multiprocessing children) are found through /proc/PID/task/*/children when the
kernel offers it, else by scanning every /proc/PID/stat for its parent pid.
"""

from __future__ import annotations

import os
from pathlib import Path

_PROC = Path("/proc")
_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    return text[text.rindex(")") + 2 :].split()


def _children_from_tasks(pid: int) -> list[int] | None:
    tasks = _PROC / str(pid) / "task"
    found: list[int] = []
    try:
        for task in tasks.iterdir():
            children = task / "children"
            if not children.exists():
                return None
            found.extend(int(child) for child in children.read_text().split())
    except FileNotFoundError:
        return []
    return found


def _parent_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is not None:
            # After the command name: state, ppid, ...
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def process_tree(root: int) -> list[int]:
    """``root`` and all its live descendants."""
    tree = [root]
    by_parent: dict[int, list[int]] | None = None
    for pid in tree:  # grows while it is walked; a tree has no cycles
        kids = _children_from_tasks(pid)
        if kids is None:
            if by_parent is None:
                by_parent = _parent_map()
            kids = by_parent.get(pid, [])
        tree.extend(kids)
    return tree


def tree_cpu_seconds(root: int, *, children: bool = True) -> float:
    """User + system CPU seconds of ``root`` and its live descendants.

    Children that exited and were reaped count through the parent's
    cutime/cstime, so a worker restarted between two readings is not lost.
    """
    ticks = 0
    for pid in process_tree(root) if children else [root]:
        fields = _stat_fields(pid)
        if fields is None:
            continue
        # Fields 14-17 of stat (utime, stime, cutime, cstime) sit at 11-14 here.
        ticks += sum(int(value) for value in fields[11:15])
    return ticks / _TICKS_PER_SECOND


def machine_busy_seconds() -> float:
    """CPU seconds every process on the machine has used (all CPUs), from /proc/stat."""
    with (_PROC / "stat").open() as stat:
        fields = stat.readline().split()
    # cpu user nice system idle iowait irq softirq steal ...: everything but idle and iowait.
    user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in fields[1:8])
    return (user + nice + system + irq + softirq) / _TICKS_PER_SECOND


def _status_kib(pid: int, keys: tuple[str, ...]) -> dict[str, int] | None:
    try:
        text = (_PROC / str(pid) / "status").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    found: dict[str, int] = {}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name in keys:
            found[name] = int(value.split()[0])  # "123456 kB"
    return found


def tree_memory_bytes(root: int) -> tuple[int, int]:
    """Resident memory of ``root`` and its live descendants: (RSS, anonymous part of it).

    Anonymous memory is the heap (Python objects, SQLite's page cache); the rest of RSS is
    mapped files and shared memory, which the kernel may drop or share.
    """
    rss = anon = 0
    for pid in process_tree(root):
        status = _status_kib(pid, ("VmRSS", "RssAnon"))
        if status is None:
            continue
        rss += status.get("VmRSS", 0) * 1024
        anon += status.get("RssAnon", 0) * 1024
    return rss, anon
