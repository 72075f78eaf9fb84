"""Statements and transactions per SCIM request, counted at the database driver.

Runs scimgate's ASGI app in this process (no HTTP server) on a fresh tenant of
``--database-url`` (default: a fresh SQLite file), sends each operation of the
load benchmark ``--requests`` times, and counts what reaches the driver from the
request path: statements (``cursor.execute``/``executemany`` on psycopg; every
statement sqlite3 traces, BEGIN and COMMIT included; on PostgreSQL the reads
awaited on the event loop too), and commits. The audit
recorder's batched writes run on their own thread and are counted apart. On
PostgreSQL a round trip is a statement, the implicit BEGIN before a
transaction's first statement, or a COMMIT; the pool's pre-ping is a statement.

On SQLite it also counts the pages each request writes: the frames appended to
the write-ahead log (automatic checkpoints are off for the run, and the log is
emptied between operations), with the b-trees (tables and indexes) they belong
to. A commit's cost grows with its frames. ``--floor`` runs the same requests
against ``bench/floor_plus.py`` in this process too, so the two shapes of
storage are counted side by side.

    .venv/bin/python bench/statements.py [--floor]
    .venv/bin/python bench/statements.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import struct
import sys
import tempfile
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import orjson

from payloads import DEACTIVATE, add_members, group_document, remove_member, user_document

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

    def wrap_async(cls: Any, name: str, kind: str) -> None:
        real = getattr(cls, name)

        async def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
            _note(kind)
            return await real(self, *args, **kwargs)

        setattr(cls, name, counted)

    wrap(psycopg.Cursor, "execute", "statements")
    wrap(psycopg.Cursor, "executemany", "statements")
    wrap(psycopg.Connection, "commit", "commits")
    wrap(psycopg.Connection, "rollback", "rollbacks")
    # The reads awaited on the event loop (Database.awaited_reads), and their pool's check.
    wrap_async(psycopg.AsyncCursor, "execute", "statements")


_REAL_CONNECT = sqlite3.connect


def _count_sqlite() -> None:
    import sqlite3.dbapi2

    real = sqlite3.dbapi2.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = real(*args, **kwargs)
        # The log keeps every frame until WalFrames empties it between operations.
        conn.execute("PRAGMA wal_autocheckpoint=0")

        def traced(sql: str) -> None:
            _note("commits" if sql.strip().upper() == "COMMIT" else "statements")

        conn.set_trace_callback(traced)
        return conn

    # SQLAlchemy's dialect calls sqlite3.dbapi2.connect.
    sqlite3.dbapi2.connect = sqlite3.connect = connect  # type: ignore[assignment]


_FRAME_HEADER = 24
_WAL_HEADER = 32
_AUDIT_TREES = ("audit_log", "ix_audit_log_")


class WalFrames:
    """The pages an operation writes, read back from the SQLite file's write-ahead log.

    Each frame of the log is one page written by a commit; its header names the
    page. ``dbstat`` says which b-tree owns a page: asked before and after the
    operation, so that a page freed or reused meanwhile is still attributed to
    what held it when it was written ("free" when neither knows it).
    """

    def __init__(self, path: str) -> None:
        self._path = path
        self._wal = f"{path}-wal"
        self._owners: dict[int, str] = {}

    def _owner_map(self) -> dict[int, str]:
        conn = _REAL_CONNECT(self._path)
        try:
            page_size = conn.execute("PRAGMA page_size").fetchone()[0]
            self._page_size = int(page_size)
            return {page: name for name, page in conn.execute("SELECT name, pageno FROM dbstat")}
        finally:
            conn.close()

    def start(self) -> None:
        conn = _REAL_CONNECT(self._path)
        try:
            busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            conn.close()
        if busy:
            raise SystemExit("could not empty the write-ahead log between operations")
        self._owners = self._owner_map()

    def stop(self, requests: int) -> dict[str, float]:
        """Frames per request by b-tree, the audit recorder's apart (``audit_frames``)."""
        after = self._owner_map()
        frame = _FRAME_HEADER + self._page_size
        with open(self._wal, "rb") as log:
            data = log.read()
        by_tree: Counter[str] = Counter()
        for offset in range(_WAL_HEADER, len(data) - frame + 1, frame):
            (page,) = struct.unpack_from(">I", data, offset)
            by_tree[self._owners.get(page) or after.get(page) or "free"] += 1
        audit = sum(n for tree, n in by_tree.items() if tree.startswith(_AUDIT_TREES))
        found = {"frames": (sum(by_tree.values()) - audit) / requests}
        found["audit_frames"] = audit / requests
        for tree, n in by_tree.most_common():
            if not tree.startswith(_AUDIT_TREES):
                found[f"frames:{tree}"] = n / requests
        return found


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


async def _run(
    app: Any,
    secret: str,
    base: str,
    requests: int,
    frames: WalFrames | None,
    *,
    lifespan: bool = True,
) -> dict[str, dict[str, float]]:
    stop = await _lifespan(app) if lifespan else None
    driver = Driver(app, secret)
    run = uuid.uuid4().hex[:6]
    rng = random.Random(7)
    figures: dict[str, dict[str, float]] = {}
    ids: list[str] = []
    group_ids: list[str] = []

    async def phase(op: str, calls: list[tuple[str, str, bytes, bytes]], ok: set[int]) -> None:
        if frames is not None:
            frames.start()
        counts.clear()
        for method, path, body, query in calls:
            status, answer = await driver.call(method, path, body, query)
            if status not in ok:
                raise SystemExit(f"{op}: {method} {path} answered {status}: {answer[:200]!r}")
            if op in ("create_user", "create_group"):
                (ids if op == "create_user" else group_ids).append(orjson.loads(answer)["id"])
        n = len(calls)
        found = {k: v / n for k, v in sorted(counts.items())}
        if frames is not None:
            found |= frames.stop(n)
        figures[op] = {k: round(v, 2) for k, v in found.items()}

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
    # Groups of up to a hundred members, as in the load benchmark: each user ends up in
    # about four, so that delete_user leaves groups as it does there.
    count = max(1, requests // 25)
    await phase(
        "create_group",
        [
            ("POST", f"{base}/Groups", orjson.dumps(group_document(run, k)), b"")
            for k in range(count)
        ],
        {201},
    )
    members = {g: rng.sample(ids, min(100, len(ids))) for g in group_ids}
    await phase(
        "add_100_members",
        [("PATCH", f"{base}/Groups/{g}", add_members(members[g]), b"") for g in group_ids],
        {200, 204},
    )
    pairs = []
    for k in range(requests):
        group = group_ids[k % len(group_ids)]
        outside = [i for i in ids if i not in members[group]]
        if outside:
            pairs.append((group, rng.choice(outside)))
    pairs = list(dict.fromkeys(pairs))  # each (group, user) once, so each removal finds it
    await phase(
        "add_member",
        [("PATCH", f"{base}/Groups/{g}", add_members([u]), b"") for g, u in pairs],
        {200, 204},
    )
    await phase(
        "remove_member",
        [("PATCH", f"{base}/Groups/{g}", remove_member(u), b"") for g, u in pairs],
        {200, 204},
    )
    await phase(
        "get_group_no_members",
        [
            ("GET", f"{base}/Groups/{g}", b"", b"excludedAttributes=members")
            for g in group_ids * max(1, requests // len(group_ids))
        ],
        {200},
    )
    await phase("delete_user", [("DELETE", f"{base}/Users/{i}", b"", b"") for i in ids], {204})
    if stop is not None:
        await stop()
    return figures


def _report(name: str, figures: dict[str, dict[str, float]]) -> None:
    print(name)
    for op, found in figures.items():
        plain = {k: v for k, v in found.items() if not k.startswith("frames:")}
        print(f"  {op:22} " + "  ".join(f"{k}={v:g}" for k, v in plain.items()))
        trees = [(k[7:], v) for k, v in found.items() if k.startswith("frames:") and v >= 0.05]
        if trees:
            print(f"  {'':22}   " + ", ".join(f"{t} {v:g}" for t, v in trees))


def _floor(workdir: str, requests: int) -> dict[str, dict[str, float]]:
    """The same requests against bench/floor_plus.py, in this process, on its own file."""
    path = f"{workdir}/floor.db"
    os.environ["FLOOR_DB"] = path
    import floor_plus

    # The floor answers no lifespan messages.
    return asyncio.run(_run(floor_plus.app, "", "/v2", requests, WalFrames(path), lifespan=False))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument(
        "--floor", action="store_true", help="also run bench/floor_plus.py (SQLite only)"
    )
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
    sqlite = url.startswith("sqlite")
    if args.floor and not sqlite:
        parser.error("--floor compares SQLite files: leave out --database-url")
    (_count_sqlite if sqlite else _count_psycopg)()
    app = create_app(settings)
    frames = WalFrames(url.removeprefix("sqlite:///")) if sqlite else None
    figures = asyncio.run(_run(app, secret, f"/scim/v2/{slug}", args.requests, frames))
    database = url.split(":", 1)[0]
    _report(f"scimgate, per request, {database}, {args.requests} requests per operation", figures)
    out: dict[str, Any] = {"bench": "statements", "database": database, **figures}
    if args.floor:
        floor = _floor(workdir, args.requests)
        _report("floor (bench/floor_plus.py, autocommit: no COMMIT is traced)", floor)
        print(f"{'WAL frames per request':24} {'scimgate':>9} {'floor':>7}")
        for op, found in figures.items():
            print(f"  {op:22} {found.get('frames', 0):9g} {floor[op].get('frames', 0):7g}")
        out["floor"] = floor
    print(orjson.dumps(out).decode())
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main())
