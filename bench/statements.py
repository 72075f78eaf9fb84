"""Statements and transactions per SCIM request, counted at the database driver.

Runs scimgate's ASGI app in this process (no HTTP server) on a fresh tenant of
``--database-url`` (default: a fresh SQLite file), sends each operation of the
load benchmark ``--requests`` times, and counts what reaches the driver from the
request path: statements (``cursor.execute``/``executemany`` on psycopg; every
statement sqlite3 traces, BEGIN and COMMIT included), and commits. The audit
recorder's batched writes run on their own thread and are counted apart. On
PostgreSQL a round trip is a statement, the implicit BEGIN before a
transaction's first statement, or a COMMIT; the pool's pre-ping is a statement.

    .venv/bin/python bench/statements.py
    .venv/bin/python bench/statements.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import orjson

from payloads import DEACTIVATE, user_document

_AUDIT_THREAD = "scimgate-audit"
counts: Counter[str] = Counter()


def _note(kind: str) -> None:
    audit = threading.current_thread().name == _AUDIT_THREAD
    counts[f"audit_{kind}" if audit else kind] += 1


def _count_psycopg() -> None:
    import psycopg

    def wrap(cls: Any, name: str, kind: str) -> None:
        real = getattr(cls, name)

        def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
            _note(kind)
            return real(self, *args, **kwargs)

        setattr(cls, name, counted)

    wrap(psycopg.Cursor, "execute", "statements")
    wrap(psycopg.Cursor, "executemany", "statements")
    wrap(psycopg.Connection, "commit", "commits")
    wrap(psycopg.Connection, "rollback", "rollbacks")


def _count_sqlite() -> None:
    import sqlite3
    import sqlite3.dbapi2

    real = sqlite3.dbapi2.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = real(*args, **kwargs)

        def traced(sql: str) -> None:
            _note("commits" if sql.strip().upper() == "COMMIT" else "statements")

        conn.set_trace_callback(traced)
        return conn

    # SQLAlchemy's dialect calls sqlite3.dbapi2.connect.
    sqlite3.dbapi2.connect = sqlite3.connect = connect  # type: ignore[assignment]


class Driver:
    """Calls the app's ASGI interface directly, one request at a time."""

    def __init__(self, app: Any, secret: str) -> None:
        self._app = app
        self._auth = f"Bearer {secret}".encode()

    async def call(
        self, method: str, path: str, body: bytes = b"", query: bytes = b""
    ) -> tuple[int, bytes]:
        headers = [(b"host", b"127.0.0.1"), (b"authorization", self._auth)]
        if body:
            headers += [
                (b"content-type", b"application/scim+json"),
                (b"content-length", str(len(body)).encode()),
            ]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query,
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
        }
        pending = [{"type": "http.request", "body": body, "more_body": False}]
        out: dict[str, Any] = {"body": b""}

        async def receive() -> dict[str, Any]:
            if pending:
                return pending.pop()
            await asyncio.Event().wait()
            raise AssertionError

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                out["status"] = message["status"]
            else:
                out["body"] += message.get("body", b"")

        await self._app(scope, receive, send)
        return out["status"], out["body"]


async def _lifespan(app: Any) -> Callable[[], Any]:
    queue: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    started = asyncio.Event()
    await queue.put({"type": "lifespan.startup"})

    async def send(message: dict[str, Any]) -> None:
        if message["type"].endswith(".complete"):
            started.set()

    task = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, queue.get, send)
    )
    await started.wait()

    async def stop() -> None:
        await queue.put({"type": "lifespan.shutdown"})
        await task

    return stop


async def _run(app: Any, secret: str, base: str, requests: int) -> dict[str, dict[str, float]]:
    stop = await _lifespan(app)
    driver = Driver(app, secret)
    run = uuid.uuid4().hex[:6]
    figures: dict[str, dict[str, float]] = {}
    ids: list[str] = []

    async def phase(op: str, calls: list[tuple[str, str, bytes, bytes]], ok: set[int]) -> None:
        counts.clear()
        for method, path, body, query in calls:
            status, answer = await driver.call(method, path, body, query)
            if status not in ok:
                raise SystemExit(f"{op}: {method} {path} answered {status}: {answer[:200]!r}")
            if op == "create_user":
                ids.append(orjson.loads(answer)["id"])
        n = len(calls)
        figures[op] = {k: round(v / n, 2) for k, v in sorted(counts.items())}

    await driver.call("GET", f"{base}/Users")  # the token is verified once, then cached
    users = [user_document(run, k) for k in range(requests)]
    await phase(
        "create_user", [("POST", f"{base}/Users", orjson.dumps(u), b"") for u in users], {201}
    )
    await phase("get_user", [("GET", f"{base}/Users/{i}", b"", b"") for i in ids], {200})
    await phase(
        "filter_eq_hit",
        [
            ("GET", f"{base}/Users", b"", f'filter=userName eq "{u["userName"]}"'.encode())
            for u in users
        ],
        {200},
    )
    replaced = [user_document(run, k, revision=1) for k in range(requests)]
    await phase(
        "put_user",
        [
            ("PUT", f"{base}/Users/{i}", orjson.dumps(u), b"")
            for i, u in zip(ids, replaced, strict=True)
        ],
        {200},
    )
    await phase(
        "patch_deactivate",
        [("PATCH", f"{base}/Users/{i}", DEACTIVATE, b"") for i in ids],
        {200, 204},
    )
    await phase("delete_user", [("DELETE", f"{base}/Users/{i}", b"", b"") for i in ids], {204})
    await stop()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="statements-")
    url = args.database_url or f"sqlite:///{workdir}/scimgate.db"
    os.environ.update(
        SCIMGATE_DATABASE_URL=url,
        SCIMGATE_DEV_MODE="1",
        SCIMGATE_LOG_LEVEL="WARNING",
        SCIMGATE_PUBLIC_URL="http://127.0.0.1",
    )
    from scimgate.app import create_app
    from scimgate.config import Settings
    from scimgate.service import tenants, tokens
    from scimgate.storage.database import Database
    from scimgate.storage.migrate import upgrade

    settings = Settings()
    upgrade(url)
    db = Database.from_url(url)
    slug = f"stmt-{uuid.uuid4().hex[:8]}"
    tenant = tenants.ensure_tenant(db, slug, "Statements")
    secret = tokens.create_token(db, tenant, "statements").secret
    db.dispose()
    (_count_sqlite if url.startswith("sqlite") else _count_psycopg)()
    app = create_app(settings)
    figures = asyncio.run(_run(app, secret, f"/scim/v2/{slug}", args.requests))
    print(f"per request, {url.split(':', 1)[0]}, {args.requests} requests per operation")
    for op, found in figures.items():
        print(f"  {op:18} " + "  ".join(f"{k}={v:g}" for k, v in found.items()))
    print(
        orjson.dumps({"bench": "statements", "database": url.split(":", 1)[0], **figures}).decode()
    )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main())
