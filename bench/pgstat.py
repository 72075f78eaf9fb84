"""CPU of the PostgreSQL backends serving scimgate's database, read from /proc.

The backends are not scimgate's children, so the server's cpu/req leaves them
out. Their pids come from ``pg_stat_activity`` (every backend connected to the
bench database but this reader's own); their CPU from /proc/PID/stat, as for
the server. A backend opened during a phase counts from zero; one that exits
during a phase is lost (scimgate's pool keeps its connections).
"""

from __future__ import annotations

from typing import Any

from procstat import tree_cpu_seconds


def _driver_url(database_url: str) -> str:
    scheme, _, rest = database_url.partition("://")
    return f"{scheme.split('+', 1)[0]}://{rest}"


class BackendCpu:
    """Reads the backends' CPU seconds; one reader connection for the whole run."""

    def __init__(self, database_url: str) -> None:
        import psycopg

        self._conn: Any = psycopg.connect(_driver_url(database_url), autocommit=True)

    def seconds(self) -> dict[int, float]:
        rows = self._conn.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
        # Only the process itself: a backend has no children.
        return {pid: tree_cpu_seconds(pid, children=False) for (pid,) in rows}

    def close(self) -> None:
        self._conn.close()


def analyze(database_url: str) -> None:
    """ANALYZE the bench database: the statistics autovacuum would have gathered by now on
    a server that runs it (PostgreSQL's default), for a machine whose server does not."""
    import psycopg

    with psycopg.connect(_driver_url(database_url), autocommit=True) as conn:
        conn.execute("ANALYZE")


def used(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(max(0.0, cpu - before.get(pid, 0.0)) for pid, cpu in after.items())
