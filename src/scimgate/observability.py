"""Prometheus metrics at ``/metrics`` and JSON logs carrying a request id.

Each request gets an id: the caller's ``X-Request-Id`` when it looks like
one, a new one otherwise; it is echoed in the response and attached to every
log record written while the request runs. Neither logs nor metrics ever
hold an Authorization header, a body or a query string (filters carry
personal data).

With ``--workers N`` (N > 1) the processes share their counters through
files in ``PROMETHEUS_MULTIPROC_DIR`` (a fresh private directory unless the
operator names one, see ``shared_metrics``), so ``/metrics`` on any worker
reports the sum over all of them.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import orjson
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from starlette.applications import Starlette
from starlette.datastructures import Headers, QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scimgate.model.idp import detect_idp
from scimgate.service.monitoring import webhook_backlog
from scimgate.storage.database import Database

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_request_id: ContextVar[str] = ContextVar("scimgate_request_id", default="-")
_SCIM_PREFIX = "/scim/v2/"
# A refused credential or an unknown tenant must not mint a new label value:
# anyone could otherwise grow the series without bound by inventing slugs.
_UNLABELLED_STATUSES = frozenset({401, 403, 404})
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_OUTCOMES = {n: f"{n}xx" for n in range(1, 6)}
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# The files prometheus_client's multiprocess mode writes, one set per process id.
_METRIC_FILE = re.compile(r"(counter|histogram|summary|gauge_[a-z]+)_\d+\.db")
access_log = logging.getLogger("scimgate.access")


def current_request_id() -> str:
    return _request_id.get()


# -- logs --------------------------------------------------------------------

_RESERVED = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, pid, extras.

    The process id tells apart the interleaved lines of ``--workers N``.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": _request_id.get(),
            "pid": record.process,
        }
        entry.update((k, v) for k, v in record.__dict__.items() if k not in _RESERVED)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure_logging(level: str) -> None:
    """JSON lines on stderr for scimgate's and uvicorn's loggers (call once per process)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


# -- metrics -----------------------------------------------------------------


class _LiveFigures(Collector):
    """Gauges computed at scrape time: webhook backlog and this process's DB pool."""

    def __init__(self, app: Starlette) -> None:
        self._app = app

    def collect(self) -> Iterator[Metric]:
        db: Database | None = getattr(self._app.state, "db", None)
        if db is None:
            return
        backlog = GaugeMetricFamily(
            "scimgate_webhook_backlog_events",
            "Events not yet delivered (or given up) per enabled webhook",
            labels=["webhook", "tenant"],
        )
        try:
            for row in webhook_backlog(db):
                backlog.add_metric([row.webhook_id, row.tenant], row.events)
        except Exception:  # a scrape must not fail because the database is down
            logging.getLogger("scimgate").warning("webhook backlog query failed", exc_info=True)
        yield backlog
        pool = db.engine.pool
        for name, help_text, attribute in (
            ("scimgate_db_pool_size", "Configured connections in this process's pool", "size"),
            ("scimgate_db_pool_checked_out", "Connections in use", "checkedout"),
            ("scimgate_db_pool_overflow", "Connections beyond the pool size", "overflow"),
        ):
            read = getattr(pool, attribute, None)
            if callable(read):
                yield GaugeMetricFamily(name, help_text, value=float(read()))


class Metrics:
    """The counters of one app; registered on a registry of its own, never the global one."""

    def __init__(self, app: Starlette) -> None:
        self.multiprocess = bool(os.environ.get(MULTIPROC_ENV))
        # In multiprocess mode values live in files; the scrape registry reads them.
        own = None if self.multiprocess else CollectorRegistry()
        self.requests = Counter(
            "scimgate_requests",
            "Requests by tenant, identity provider and outcome (status class)",
            ["tenant", "idp", "outcome"],
            registry=own,
        )
        self.latency = Histogram(
            "scimgate_request_duration_seconds",
            "Time from request to the end of the response",
            ["surface", "outcome"],
            buckets=_BUCKETS,
            registry=own,
        )
        # No slug label: invented slugs must not mint series (service/audit.py logs them).
        self.unknown_tenant_requests = Counter(
            "scimgate_scim_unknown_tenant_requests",
            "SCIM requests for a tenant slug that names no tenant (not in any audit log)",
            registry=own,
        )
        self._own = own
        self._live = _LiveFigures(app)
        # The labelled children, looked up once per label set instead of on every request.
        self._request_children: dict[tuple[str, str, str], Any] = {}
        self._latency_children: dict[tuple[str, str], Any] = {}

    def observe(self, tenant: str, idp: str, outcome: str, surface: str, elapsed: float) -> None:
        """Count one request and its duration."""
        key = (tenant, idp, outcome)
        counter = self._request_children.get(key)
        if counter is None:
            counter = self._request_children[key] = self.requests.labels(*key)
        counter.inc()
        timing = self._latency_children.get((surface, outcome))
        if timing is None:
            timing = self._latency_children[(surface, outcome)] = self.latency.labels(
                surface, outcome
            )
        timing.observe(elapsed)

    def exposition(self) -> bytes:
        registry = CollectorRegistry()
        if self._own is None:
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        else:
            registry.register(_Forward(self._own))
        registry.register(self._live)
        return generate_latest(registry)


@contextmanager
def shared_metrics(workers: int) -> Iterator[str | None]:
    """The multiprocess metrics directory for a server of ``workers`` processes, while it runs.

    An operator's ``PROMETHEUS_MULTIPROC_DIR`` is created if missing and
    cleared of an earlier run's metric files (they would be added to this
    run's counts). Without one, several workers get a fresh private
    directory, removed when the server stops; a single worker keeps its
    counters in memory. Call it before any worker process starts: they
    inherit the variable, and prometheus_client reads it when it is imported.
    """
    chosen = os.environ.get(MULTIPROC_ENV)
    if chosen:
        directory = Path(chosen)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.iterdir():
            if _METRIC_FILE.fullmatch(stale.name):
                stale.unlink(missing_ok=True)
        yield chosen
        return
    if workers == 1:
        yield None
        return
    private = tempfile.mkdtemp(prefix="scimgate-metrics-")  # mode 0700
    os.environ[MULTIPROC_ENV] = private
    try:
        yield private
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(private, ignore_errors=True)


class _Forward(Collector):
    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterator[Metric]:
        yield from self._registry.collect()


async def metrics_endpoint(request: Request) -> Response:
    metrics: Metrics = request.app.state.metrics
    return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


# -- the middleware -----------------------------------------------------------


class ObservabilityMiddleware:
    """Request id, one access log line and the request metrics, around the whole app."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        # New ids: 32 hex digits as before, a random half drawn once per process (the
        # middleware is built in each worker) and a counter, instead of a uuid4 and its
        # getrandom call on every request. An id correlates log lines; it guards nothing.
        self._id_prefix = secrets.token_hex(8)
        self._id_counter = itertools.count()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = _offered_request_id(scope)
        request_id = (
            offered
            if _REQUEST_ID.fullmatch(offered)
            else f"{self._id_prefix}{next(self._id_counter):016x}"
        )
        token = _request_id.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._record(scope, status, time.perf_counter() - started)
            _request_id.reset(token)

    def _record(self, scope: Scope, status: int, elapsed: float) -> None:
        path: str = scope["path"]
        outcome = _OUTCOMES.get(status // 100, "other")
        tenant = idp = "-"
        if path.startswith(_SCIM_PREFIX):
            surface = "scim"
            if status not in _UNLABELLED_STATUSES:
                tenant = _scim_tenant(scope, path)
            idp = _scim_idp(scope, path)
        else:
            surface = "api" if path.startswith("/api/") else "other"
        if path != "/metrics":
            self.metrics.observe(tenant, idp, outcome, surface, elapsed)
        if path.startswith(_SETUP_LINK):
            # A setup link's path is its secret: the log keeps only the shown prefix.
            path = path[: len(_SETUP_LINK) + 8] + "…"
        if not access_log.isEnabledFor(logging.INFO):
            return
        access_log.info(
            "request",
            extra={
                "method": scope["method"],
                "path": path,
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
                "tenant": tenant,
                "idp": idp,
            },
        )


_SETUP_LINK = "/setup/sgl_"  # service/setup_links.py's LINK_MARKER


def _scim_tenant(scope: Scope, path: str) -> str:
    """The slug the SCIM mount matched; read from the path when no route matched."""
    slug: str | None = scope.get("path_params", {}).get("tenant")
    return slug if slug is not None else path[len(_SCIM_PREFIX) :].split("/", 1)[0]


def _offered_request_id(scope: Scope) -> str:
    """The caller's X-Request-Id (the raw headers are scanned; no Headers object is built)."""
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            return str(value.decode("latin-1"))
    return ""


def _scim_idp(scope: Scope, path: str) -> str:
    """The IdP the SCIM layer detected (``scim_context``), detected here only when it never ran."""
    detected: str | None = (scope.get("state") or {}).get("scim_idp")
    if detected is not None:
        return detected
    query = QueryParams(scope.get("query_string", b""))
    return detect_idp(Headers(scope=scope), scope["method"], path, query)


def install(app: Starlette) -> None:
    """Add ``/metrics`` and the middleware to ``app`` (before it starts)."""
    metrics = Metrics(app)
    app.state.metrics = metrics
    app.router.add_route("/metrics", metrics_endpoint, methods=["GET"])
    app.add_middleware(ObservabilityMiddleware, metrics=metrics)
