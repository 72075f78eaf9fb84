"""The one way into storage: transactions that hand out scoped repositories."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import sqlalchemy as sa

from scimgate.storage.directory import Directory, FoundToken, find_token
from scimgate.storage.engine import SQLITE_IMMEDIATE, make_engine, socket_is_quiet
from scimgate.storage.reads import AwaitedReads, TenantReads
from scimgate.storage.repository import TenantRepository


class Database:
    """Owns the engine. Services open units of work through it and never see a connection."""

    # Runs first in each tenant transaction when set (CheckedDatabase). A hook rather
    # than an override of ``tenant``: every SCIM request opens one of these, and a
    # generator wrapped around another costs a frame on entry and on exit.
    _confirm: Callable[[TenantRepository], None] | None = None

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        # Told the tenant's credentials generation after each single-statement read,
        # and after each awaited one (which must not block the event loop).
        self._on_generation: Callable[[int | None], None] | None = None
        self._on_awaited_generation: Callable[[int | None], None] | None = None
        # PostgreSQL: asyncio connection pools for awaited reads, one per event loop
        # that opened one (open_awaited_reads).
        self._awaited: dict[asyncio.AbstractEventLoop, Any] = {}

    @classmethod
    def from_url(cls, url: str, *, pool_size: int = 10) -> Database:
        return cls(make_engine(url, pool_size=pool_size))

    def _connect(self, write: bool) -> sa.Connection:
        """A connection whose next ``begin()`` starts a transaction of the right kind."""
        conn = self.engine.connect()
        if write and self.dialect == "sqlite":
            conn.connection.info[SQLITE_IMMEDIATE] = True
        return conn

    @contextmanager
    def directory(self, *, write: bool = False) -> Iterator[Directory]:
        """The cross-tenant registry: tenants, and finding a token by its hash."""
        with self._connect(write) as conn, conn.begin():
            yield Directory(conn)

    @contextmanager
    def tenant(self, tenant_id: int, *, write: bool = False) -> Iterator[TenantRepository]:
        """Everything one tenant owns, in one transaction."""
        with self._connect(write) as conn, conn.begin():
            repo = TenantRepository(conn, tenant_id)
            if self._confirm is not None:
                self._confirm(repo)
            yield repo

    @contextmanager
    def reads(self, tenant_id: int) -> Iterator[TenantReads]:
        """One tenant's single-statement reads, outside any unit of work (``storage.reads``).

        Each read is one SELECT on a pooled driver connection in autocommit:
        SQLite's connections are (SQLAlchemy, not the driver, begins their
        transactions), and a PostgreSQL connection is switched for the
        duration, so that no BEGIN or ROLLBACK goes over the wire.
        """
        with self._driver() as driver:
            yield TenantReads(driver, self.dialect == "sqlite", tenant_id, self._on_generation)

    @contextmanager
    def _driver(self) -> Iterator[Any]:
        raw = self.engine.raw_connection()
        try:
            driver = raw.driver_connection
            assert driver is not None
            if self.dialect == "sqlite":
                yield driver
                return
            driver.autocommit = True
            try:
                yield driver
            finally:
                if not driver.closed:  # a broken connection keeps its own error
                    driver.autocommit = False
        finally:
            raw.close()

    async def open_awaited_reads(self) -> None:
        """On PostgreSQL, open this event loop's pool for ``awaited_reads``; nothing on SQLite,
        whose reads run inline on the loop anyway."""
        if self.dialect != "postgresql":
            return
        from psycopg_pool import AsyncConnectionPool

        # Connected exactly as the engine connects (several hosts, TLS options, and its
        # adapters, which decode JSON with orjson), not from a re-rendered URL.
        _, params = self.engine.dialect.create_connect_args(self.engine.url)
        size = self.engine.pool.size()  # type: ignore[attr-defined]
        pool = AsyncConnectionPool(
            "",
            min_size=1,
            max_size=size,
            kwargs={**params, "autocommit": True},
            check=_check_awaited,
            # Waiting for a connection: a database that cannot be reached answers the
            # request with an error after this long instead of holding it.
            timeout=10.0,
            open=False,
            name="scimgate-awaited-reads",
        )
        await pool.open()
        self._awaited[asyncio.get_running_loop()] = pool

    async def close_awaited_reads(self) -> None:
        pool = self._awaited.pop(asyncio.get_running_loop(), None)
        if pool is not None:
            await pool.close()

    def awaits_reads(self) -> bool:
        """Whether ``awaited_reads`` can serve on the running event loop."""
        try:
            return asyncio.get_running_loop() in self._awaited
        except RuntimeError:  # no running loop
            return False

    @asynccontextmanager
    async def awaited_reads(self, tenant_id: int) -> AsyncIterator[AwaitedReads]:
        """``reads`` awaited on the event loop (PostgreSQL, once ``open_awaited_reads`` ran on
        this loop): no worker thread, one round trip, autocommit."""
        pool = self._awaited[asyncio.get_running_loop()]
        async with pool.connection() as conn:
            yield AwaitedReads(conn, tenant_id, self._on_awaited_generation)

    def find_token(self, secret_hash: str) -> FoundToken | None:
        """The token with this hash and its tenant, read outside any unit of work.

        Every SCIM request without a cached token starts here, so it skips the
        ``Connection`` and the transaction: one SELECT on a pooled driver
        connection in autocommit, as the single-statement reads (``reads``).
        That is an order of magnitude cheaper than ``directory()`` plus a Core
        select (bench/README.md, "Figures behind the code").
        """
        with self._driver() as driver:
            return find_token(driver, self.dialect == "sqlite", secret_hash)

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


class CheckedDatabase(Database):
    """The database as a request with a cached credential sees it: ``confirm`` runs first in
    each tenant transaction and raises if the credential no longer holds (the token check of
    ``scimgate.service.tokens.CredentialCheck``)."""

    def __init__(
        self,
        db: Database,
        confirm: Callable[[TenantRepository], None],
        confirm_generation: Callable[[int | None], None],
        expect_generation: Callable[[int | None], None],
    ) -> None:
        super().__init__(db.engine)
        self._awaited = db._awaited
        self._confirm = confirm
        # Single-statement reads carry the generation in their own row instead.
        self._on_generation = confirm_generation
        self._on_awaited_generation = expect_generation


async def _check_awaited(conn: Any) -> None:
    """The awaited pool's check of a connection before each use, as the engine's pre-ping:
    no round trip while its socket is quiet."""
    if not socket_is_quiet(conn.pgconn):
        await conn.execute("SELECT 1")
