"""Recording SCIM requests in the audit log without slowing them down.

Each request hands a small tuple to ``AuditRecorder.record`` (a list append
under a lock, about a microsecond); a background thread turns the tuples into
rows and writes them in one ``executemany`` every ``interval`` seconds or
every ``batch_size`` entries, and once more at shutdown. Writing in the
request's own transaction was the alternative: it would put an INSERT (and on
SQLite the write lock) on every read request too. Measured numbers are in
docs/how-to/admin-console.md.

What is kept of a request body is a summary of *which* attributes changed;
values are never stored, and passwords, tokens and the Authorization header
never reach the log. A request that parses its body summarizes the document
it parsed, before the compatibility layer rewrites it in place (so the log
shows what the client sent); the background thread parses only the bodies
no request did (refused before they were read, or not a JSON object).

The log is per tenant (``audit_log.tenant_id`` is a foreign key), so a
request for a slug that names no tenant has no log to go to. The same thread
that finds this out writes it as a WARNING line of the JSON log instead, and
reports the count to ``on_unknown_tenant`` (the app's Prometheus counter).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import orjson

from scimgate.errors import InvalidValue
from scimgate.model.entities import Tenant
from scimgate.service.clock import utcnow
from scimgate.storage.audit import AuditEntry, AuditFilter
from scimgate.storage.audit_writer import append_entries, purge_older_than, tenant_ids_by_slug
from scimgate.storage.database import Database

logger = logging.getLogger("scimgate.audit")

_HIDDEN_ATTRIBUTES = frozenset({"schemas", "id", "meta", "password"})
_MAX_BODY_FOR_SUMMARY = 256 * 1024
_MAX_CHANGE = 500
_MAX_DETAIL = 300
_MAX_PATH = 512
# Warning lines about unknown tenants per batch: a client inventing slugs in a
# loop gets one summary line for the rest instead of flooding the log.
_MAX_UNKNOWN_LINES = 50
_MAX_LOGGED_SLUG = 64
_MAX_LOGGED_PATH = 256


class RequestRecord(NamedTuple):
    """What the SCIM wrapper knows about one finished request.

    A named tuple, not a frozen dataclass: every SCIM request builds one, and a
    tuple is built in about a quarter of the time.
    """

    occurred_at: datetime
    tenant_slug: str
    tenant_id: int | None  # None when authentication failed before the tenant was known
    token_id: str | None
    token_name: str | None
    idp: str
    method: str
    path: str
    resource_type: str | None
    resource_id: str | None
    status: int
    scim_type: str | None
    detail: str | None
    duration_ms: float
    body: bytes | None  # only when ``change`` is None: the recorder summarizes it
    error_body: bytes | None = None  # the SCIM Error response, read for scimType and detail
    change: str | None = None  # the summary, when the request parsed its body itself
    request_id: str = "-"  # the id the JSON log lines of this request carry
    note: str | None = None  # what the log adds to the detail the client saw


# The note on a request that presented another tenant's valid token: the
# client's answer is that of an unknown token, this tenant's log says more.
TOKEN_OF_ANOTHER_TENANT = "the token of another tenant"  # noqa: S105 -- a description


class AuditRecorder:
    """An in-process queue of request records, flushed to the database by one thread."""

    def __init__(
        self,
        db: Database,
        *,
        interval: float = 0.5,
        batch_size: int = 200,
        on_unknown_tenant: Callable[[int], object] | None = None,
    ) -> None:
        self._db = db
        self._on_unknown_tenant = on_unknown_tenant
        self._interval = interval
        self._batch_size = batch_size
        self._pending: list[RequestRecord] = []
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._tenant_ids: dict[str, int] = {}

    def start(self) -> AuditRecorder:
        self._thread = threading.Thread(target=self._run, name="scimgate-audit", daemon=True)
        self._thread.start()
        return self

    def record(self, entry: RequestRecord) -> None:
        with self._lock:
            self._pending.append(entry)
            full = len(self._pending) >= self._batch_size
        if full:
            self._wake.set()

    def flush(self) -> int:
        """Write everything queued so far; returns how many entries were written."""
        with self._flush_lock:
            with self._lock:
                batch, self._pending = self._pending, []
            if not batch:
                return 0
            rows = self._rows(batch)
            append_entries(self._db, rows)
            return len(rows)

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()

    def _run(self) -> None:
        while not self._stopping:
            self._wake.wait(self._interval)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # keep recording after a transient database error
                logger.exception("could not write audit entries")

    def _rows(self, batch: list[RequestRecord]) -> list[dict[str, Any]]:
        unknown = {e.tenant_slug for e in batch if e.tenant_id is None} - self._tenant_ids.keys()
        if unknown:
            self._tenant_ids.update(tenant_ids_by_slug(self._db, unknown))
        rows = []
        nowhere: list[RequestRecord] = []
        for entry in batch:
            tenant_id = entry.tenant_id or self._tenant_ids.get(entry.tenant_slug)
            if tenant_id is None:
                nowhere.append(entry)  # a tenant that does not exist has no log to write to
                continue
            scim_type, detail = entry.scim_type, entry.detail
            if entry.error_body:
                scim_type, detail = _error_fields(entry.error_body, scim_type, detail)
            if entry.note:
                detail = f"{detail} ({entry.note})" if detail else entry.note
            rows.append(
                {
                    "occurred_at": entry.occurred_at,
                    "tenant_id": tenant_id,
                    "token_id": entry.token_id,
                    "token_name": entry.token_name,
                    "idp": entry.idp[:32],
                    "method": entry.method[:8],
                    "path": _text(entry.path)[:_MAX_PATH],
                    "resource_type": entry.resource_type,
                    "resource_id": (entry.resource_id or None) and _text(entry.resource_id)[:64],
                    "status": entry.status,
                    "scim_type": scim_type[:32] if scim_type else None,
                    "detail": _text(detail)[:_MAX_DETAIL] if detail else None,
                    "duration_ms": round(entry.duration_ms, 3),
                    "change": entry.change
                    if entry.change is not None
                    else summarize_change(entry.method, entry.body),
                }
            )
        if nowhere:
            self._report_unknown_tenants(nowhere)
        return rows

    def _report_unknown_tenants(self, entries: list[RequestRecord]) -> None:
        for entry in entries[:_MAX_UNKNOWN_LINES]:
            logger.warning(
                "SCIM request for an unknown tenant",
                extra={
                    "request_id": entry.request_id,
                    "tenant_slug": entry.tenant_slug[:_MAX_LOGGED_SLUG],
                    "method": entry.method[:8],
                    # Never the query string: filters carry personal data.
                    "path": entry.path.split("?", 1)[0][:_MAX_LOGGED_PATH],
                    "status": entry.status,
                    "idp": entry.idp[:32],
                },
            )
        if len(entries) > _MAX_UNKNOWN_LINES:
            logger.warning(
                "more SCIM requests for unknown tenants",
                extra={"count": len(entries) - _MAX_UNKNOWN_LINES},
            )
        if self._on_unknown_tenant is not None:
            self._on_unknown_tenant(len(entries))


def _text(value: str) -> str:
    # A client can put NUL in a path (%00); PostgreSQL text cannot hold it,
    # and one such row must not cost the whole batch.
    return value.replace("\x00", "\\0")


def _error_fields(
    body: bytes, scim_type: str | None, detail: str | None
) -> tuple[str | None, str | None]:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return scim_type, detail
    if not isinstance(document, dict):
        return scim_type, detail
    found_type, found_detail = document.get("scimType"), document.get("detail")
    return (
        found_type if isinstance(found_type, str) else scim_type,
        found_detail if isinstance(found_detail, str) else detail,
    )


def summarize_change(method: str, body: bytes | None) -> str | None:
    """Which attributes a request changed, never their values (so never a password).

    For a body the request did not parse itself (it was refused first, or was
    no JSON object); ``summarize_document`` reads one it did parse.
    """
    if method == "DELETE":
        return "delete"
    if not body:
        return None
    if len(body) > _MAX_BODY_FOR_SUMMARY:
        return _large(method, len(body))
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return "unreadable body"
    if not isinstance(document, dict):
        return "unreadable body"
    return summarize_document(method, document, len(body))


def summarize_document(method: str, document: Mapping[str, Any], size: int) -> str:
    """``summarize_change`` of a body of ``size`` bytes the request already parsed."""
    if size > _MAX_BODY_FOR_SUMMARY:
        return _large(method, size)
    if method == "PATCH":
        text = _summarize_patch(document)
    elif (
        "Operations" in document
        and method == "POST"
        and "BulkRequest" in str(document.get("schemas"))
    ):
        operations = document.get("Operations")
        text = f"bulk: {len(operations) if isinstance(operations, list) else 0} operations"
    else:
        verb = "create" if method == "POST" else "replace"
        text = f"{verb}: {', '.join(_attribute_names(document))}"
    return text[:_MAX_CHANGE]


def _large(method: str, size: int) -> str:
    return f"{method.lower()} (large body, {size} bytes)"


def _attribute_names(document: Mapping[str, Any]) -> list[str]:
    return sorted(k for k in document if isinstance(k, str) and k not in _HIDDEN_ATTRIBUTES)


def _summarize_patch(document: Mapping[str, Any]) -> str:
    operations = document.get("Operations")
    if not isinstance(operations, list):
        return "patch: no operations"
    parts = []
    for operation in operations[:20]:
        if not isinstance(operation, dict):
            continue
        op = str(operation.get("op", "?")).lower()[:10]
        path = operation.get("path")
        value = operation.get("value")
        if isinstance(path, str) and path:
            target = path.split("[", 1)[0][:80]
            if target.lower() == "members" and isinstance(value, list):
                target = f"members ({len(value)})"
        elif isinstance(value, dict):
            target = ", ".join(_attribute_names(value)) or "(nothing)"
        else:
            target = "(no path)"
        parts.append(f"{op} {target}")
    more = f" (+{len(operations) - 20} more)" if len(operations) > 20 else ""
    return "patch: " + "; ".join(parts) + more


def purge_expired(db: Database, retention_days: int, now: datetime | None = None) -> int:
    """Remove entries older than the retention period (the log's only removal)."""
    if retention_days <= 0:
        return 0
    return purge_older_than(db, (now or utcnow()) - timedelta(days=retention_days))


def audit_page(db: Database, tenant: Tenant, where: AuditFilter, limit: int) -> list[AuditEntry]:
    with db.tenant(tenant.id) as repo:
        return repo.audit.page(where, limit)


def entry_to_dict(entry: AuditEntry) -> dict[str, Any]:
    """The JSON shape the host API, the CLI and the console's exports share."""
    return {
        "id": entry.id,
        "at": entry.occurred_at.isoformat().replace("+00:00", "Z"),
        "tokenId": entry.token_id,
        "tokenName": entry.token_name,
        "idp": entry.idp,
        "method": entry.method,
        "path": entry.path,
        "resourceType": entry.resource_type,
        "resourceId": entry.resource_id,
        "status": entry.status,
        "outcome": "success" if entry.succeeded else "failure",
        "scimType": entry.scim_type,
        "detail": entry.detail,
        "durationMs": entry.duration_ms,
        "change": entry.change,
    }


def parse_filter(
    *,
    idp: str | None = None,
    outcome: str | None = None,
    resource_type: str | None = None,
    since: datetime | None = None,
    cursor: str | None = None,
) -> AuditFilter:
    """Build a filter from request parameters, refusing what cannot be one."""
    if outcome not in (None, "", "success", "failure"):
        raise InvalidValue("outcome must be 'success' or 'failure'")
    before: int | None = None
    if cursor:
        if not cursor.isdigit() or len(cursor) > 19:
            raise InvalidValue("cursor is not one this server returned")
        before = int(cursor)
    return AuditFilter(
        idp=idp or None,
        outcome=outcome or None,
        resource_type=resource_type or None,
        since=since,
        before_id=before,
    )
