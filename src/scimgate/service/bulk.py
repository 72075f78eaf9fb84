"""Bulk operations (RFC 7644 §3.7).

Operations run in request order, each in its own transaction, as the RFC
describes (a bulk request is not atomic). ``bulkId:<id>`` references in paths
and data resolve to the ids that earlier POSTs created; an operation that
refers to a later POST waits until that POST has run, and a reference that
never resolves (unknown, failed or circular) fails with 409 as §3.7.2 says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from scimgate.errors import (
    Conflict,
    InvalidSyntax,
    InvalidValue,
    NotFound,
    PayloadTooLarge,
    ScimgateError,
)
from scimgate.model.patch import parse_patch_request
from scimgate.model.schemas import BULK_RESPONSE_SCHEMA
from scimgate.service.resource_services import bulk_target
from scimgate.service.resources import Resource
from scimgate.service.scope import TenantScope

_REFERENCE = re.compile(r"^bulkId:(.+)$")


@dataclass
class _Operation:
    index: int
    method: str
    path: str
    bulk_id: str | None
    data: Any
    version: str | None
    references: set[str] = field(default_factory=set)


def _find_references(value: Any, found: set[str]) -> None:
    if isinstance(value, str):
        match = _REFERENCE.match(value)
        if match:
            found.add(match.group(1))
    elif isinstance(value, dict):
        for item in value.values():
            _find_references(item, found)
    elif isinstance(value, list):
        for item in value:
            _find_references(item, found)


def _substitute(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        match = _REFERENCE.match(value)
        return ids.get(match.group(1), value) if match else value
    if isinstance(value, dict):
        return {k: _substitute(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, ids) for v in value]
    return value


def _parse(payload: dict[str, Any], scope: TenantScope) -> tuple[list[_Operation], int | None]:
    raw_ops = payload.get("Operations")
    if not isinstance(raw_ops, list):
        raise InvalidSyntax("a BulkRequest needs an Operations array")
    if len(raw_ops) > scope.limits.max_bulk_operations:
        raise PayloadTooLarge(
            f"a bulk request may hold at most {scope.limits.max_bulk_operations} operations"
        )
    fail_on_errors = payload.get("failOnErrors")
    if fail_on_errors is not None and (
        not isinstance(fail_on_errors, int)
        or isinstance(fail_on_errors, bool)
        or fail_on_errors < 1
    ):
        raise InvalidValue("failOnErrors must be a positive integer")
    operations: list[_Operation] = []
    seen_bulk_ids: set[str] = set()
    for index, raw in enumerate(raw_ops):
        if not isinstance(raw, dict):
            raise InvalidSyntax(f"Operations[{index}] must be an object")
        method = str(raw.get("method", "")).upper()
        path = raw.get("path")
        bulk_id = raw.get("bulkId")
        if method not in ("POST", "PUT", "PATCH", "DELETE"):
            raise InvalidSyntax(f"Operations[{index}]: unknown method {raw.get('method')!r}")
        if not isinstance(path, str):
            raise InvalidSyntax(f"Operations[{index}]: path is required")
        if method == "POST":
            if not isinstance(bulk_id, str) or not bulk_id:
                raise InvalidSyntax(f"Operations[{index}]: a POST needs a bulkId")
            if bulk_id in seen_bulk_ids:
                raise InvalidSyntax(f"Operations[{index}]: bulkId {bulk_id!r} is used twice")
            seen_bulk_ids.add(bulk_id)
        op = _Operation(
            index=index,
            method=method,
            path=path,
            bulk_id=bulk_id if isinstance(bulk_id, str) else None,
            data=raw.get("data"),
            version=raw.get("version") if isinstance(raw.get("version"), str) else None,
        )
        _find_references(op.data, op.references)
        _find_references(op.path.rsplit("/", 1)[-1], op.references)
        operations.append(op)
    return operations, fail_on_errors


def _error_entry(op: _Operation, exc: ScimgateError) -> dict[str, Any]:
    response: dict[str, Any] = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": str(exc.status),
        "detail": exc.detail,
    }
    if exc.scim_type:
        response["scimType"] = exc.scim_type
    entry: dict[str, Any] = {"method": op.method, "status": str(exc.status), "response": response}
    if op.bulk_id:
        entry["bulkId"] = op.bulk_id
    return entry


def _run(scope: TenantScope, op: _Operation, ids: dict[str, str]) -> dict[str, Any]:
    path = "/".join(_substitute(segment, ids) for segment in op.path.split("/"))
    target = bulk_target(path)
    if target is None:
        raise NotFound(f"no bulk target {path!r}")
    service, resource_id = target
    data = _substitute(op.data, ids)
    resource: Resource | None
    status = "200"
    if op.method == "POST":
        if resource_id is not None or not isinstance(data, dict):
            raise InvalidSyntax("a bulk POST targets a collection and carries data")
        resource = service.create(scope, data, related=False)
        status = "201"
        if op.bulk_id:
            ids[op.bulk_id] = resource.id
    elif resource_id is None:
        raise InvalidSyntax(f"{op.method} needs a resource path such as {service.rt.endpoint}/<id>")
    elif op.method == "PUT":
        if not isinstance(data, dict):
            raise InvalidSyntax("a bulk PUT carries data")
        resource = service.replace(scope, resource_id, data, if_match=op.version, related=False)
    elif op.method == "PATCH":
        operations = parse_patch_request(data, max_operations=scope.limits.max_patch_operations)
        resource = service.patch(
            scope, resource_id, operations, if_match=op.version, related=False, body=False
        )
        if resource is None:
            status = "204"
    else:
        service.delete(scope, resource_id, if_match=op.version)
        resource = None
        status = "204"
    entry: dict[str, Any] = {"method": op.method, "status": status}
    if op.bulk_id:
        entry["bulkId"] = op.bulk_id
    if resource is not None:
        entry["location"] = resource.location
        entry["version"] = resource.etag
    else:
        entry["location"] = f"{scope.base_url}{service.rt.endpoint}/{resource_id}"
    return entry


def process_bulk(scope: TenantScope, payload: dict[str, Any]) -> dict[str, Any]:
    operations, fail_on_errors = _parse(payload, scope)
    posted = {op.bulk_id for op in operations if op.method == "POST" and op.bulk_id}
    ids: dict[str, str] = {}
    failed_ids: set[str] = set()
    results: dict[int, dict[str, Any]] = {}
    errors = 0
    pending = list(operations)
    while pending and (fail_on_errors is None or errors < fail_on_errors):
        progressed = False
        waiting: list[_Operation] = []
        for op in pending:
            if fail_on_errors is not None and errors >= fail_on_errors:
                break
            unresolved = op.references - ids.keys()
            if unresolved and unresolved <= posted - failed_ids:
                waiting.append(op)  # its POST has not run yet
                continue
            progressed = True
            try:
                if unresolved:
                    raise Conflict(
                        f"unresolved bulkId reference(s): {', '.join(sorted(unresolved))}"
                    )
                results[op.index] = _run(scope, op, ids)
            except ScimgateError as exc:
                errors += 1
                if op.method == "POST" and op.bulk_id:
                    failed_ids.add(op.bulk_id)
                results[op.index] = _error_entry(op, exc)
        if not progressed:
            # Only circular references remain.
            for op in waiting:
                errors += 1
                results[op.index] = _error_entry(
                    op, Conflict("circular bulkId references cannot be resolved")
                )
            waiting = []
        pending = waiting
    return {
        "schemas": [BULK_RESPONSE_SCHEMA],
        "Operations": [results[i] for i in sorted(results)],
    }
