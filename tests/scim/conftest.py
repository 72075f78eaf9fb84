"""Fixtures for the SCIM contract suite: clients bound to a tenant, on both databases."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from scimgate.app import create_app
from scimgate.config import Settings
from scimgate.model.entities import Tenant
from scimgate.scim import context
from scimgate.service.tokens import IssuedToken
from scimgate.storage.database import Database
from scimgate.storage.engine import make_engine
from scimgate.storage.tables import Base
from tests.scim.contract import KnownBug, MakeLimitedScim, MakeScim, ScimClient


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """tests/conftest.py's fixture, emptying PostgreSQL with DELETE instead of TRUNCATE.

    TRUNCATE of the five tables costs about 0.2 s per test on PostgreSQL;
    DELETE of the few rows a contract test leaves costs a few milliseconds,
    which is what keeps this suite of several hundred HTTP tests near a minute.
    """
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'scimgate.db'}"
        engine = make_engine(url)
        Base.metadata.create_all(engine)
    else:
        url = request.getfixturevalue("postgres_url")
        engine = make_engine(url)
        with engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
    engine.dispose()
    return url


@pytest.fixture
def make_scim(
    client: TestClient,
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., IssuedToken],
) -> MakeScim:
    """``make_scim(slug)``: a client for that tenant (created on first use) with its own token."""
    made: dict[str, ScimClient] = {}

    def make(slug: str) -> ScimClient:
        if slug not in made:
            make_tenant(slug)
            made[slug] = ScimClient(client, slug, make_token(slug).secret)
        return made[slug]

    return make


@pytest.fixture
def scim(make_scim: MakeScim) -> ScimClient:
    """Tenant ``acme``'s SCIM API at ``/scim/v2/acme``."""
    return make_scim("acme")


@pytest.fixture
def other_tenant(make_scim: MakeScim, scim: ScimClient) -> ScimClient:
    """Tenant ``globex``, whose data must never meet ``acme``'s."""
    return make_scim("globex")


@pytest.fixture
def make_limited_scim(
    settings: Settings,
    db: Database,
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., IssuedToken],
) -> Iterator[MakeLimitedScim]:
    """``make_limited_scim(max_results=3, ...)``: tenant ``acme`` on an app with small limits.

    Call it once per test: it creates the tenant.
    """
    with ExitStack() as stack:

        def make(**limits: Any) -> ScimClient:
            limited = Settings(
                database_url=settings.database_url,
                public_url=settings.public_url,
                dev_mode=True,
                _env_file=None,
                **limits,
            )
            app = create_app(limited, database=db)
            http = stack.enter_context(TestClient(app, raise_server_exceptions=False))
            make_tenant("acme")
            return ScimClient(http, "acme", make_token("acme").secret)

        yield make


@pytest.fixture
def known_bug(request: pytest.FixtureRequest, database_url: str) -> KnownBug:
    """``known_bug("BUG: ...", backend="postgresql")``: a strict xfail for one backend only.

    For bugs that only one database shows; a bug on both gets the usual
    ``@pytest.mark.xfail(..., strict=True)`` decorator.
    """

    def mark(reason: str, *, backend: str | None = None) -> None:
        if backend is None or database_url.startswith(backend):
            request.applymarker(pytest.mark.xfail(reason=reason, strict=True))

    return mark


@pytest.fixture
def thread_hops(monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[str]]:
    """Start recording, by name, the calls the SCIM layer hands to a worker thread."""

    def start() -> list[str]:
        hops: list[str] = []
        real = context.run_in_threadpool

        async def counted(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            hops.append(getattr(fn, "__name__", repr(fn)))
            return await real(fn, *args, **kwargs)

        monkeypatch.setattr(context, "run_in_threadpool", counted)
        return hops

    return start
