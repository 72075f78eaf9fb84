"""The normalisation layer's entry points: one per kind of request body.

The routes call one of these before the service call; each runs the
registry's rewrites, in order, on the JSON the client sent (in place: the
body was just parsed and belongs to the request) and returns it. A body too
malformed to rewrite is returned as it is, for the model to refuse with the
RFC's error: tolerance never replaces validation.
"""

from __future__ import annotations

from typing import Any

from scimgate.errors import BadRequest
from scimgate.model.filter import parse_path
from scimgate.model.keys import key_of
from scimgate.model.schemas import Attribute, ResourceType, resolve
from scimgate.scim.compat.registry import OPERATION_REWRITES, RESOURCE_REWRITES, VALUE_FIXES
from scimgate.scim.compat.shape import Shape, shape_for
from scimgate.scim.compat.values import AttrPlan, compile_plan, fix_object, fix_value
from scimgate.service.resource_services import bulk_target


def normalize_resource_body(
    body: dict[str, Any], rt: ResourceType, registered: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """A POST or PUT body of ``rt`` in the RFC's shape. ``registered`` holds
    the extension URNs the tenant registered (their keys are nested too)."""
    _rewrite_object(body, shape_for(rt, registered, VALUE_FIXES))
    return body


def normalize_patch_body(
    body: dict[str, Any], rt: ResourceType, registered: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """A PatchOp message (RFC 7644 §3.5.2) for a resource of ``rt``."""
    shape = shape_for(rt, registered, VALUE_FIXES)
    key = key_of(body, "Operations")
    operations = body.get(key) if key is not None else None
    if not isinstance(operations, list):
        return body
    rewritten: list[Any] = []
    for raw in operations:
        ops = [raw]
        for rewrite in OPERATION_REWRITES:
            ops = [new for op in ops for new in _rewrite_operation(rewrite, op, shape)]
        for op in ops:
            if isinstance(op, dict):
                _rewrite_operation_value(op, shape)
        rewritten.extend(ops)
    body[key] = rewritten
    return body


def normalize_bulk_body(
    body: dict[str, Any], registered: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """A BulkRequest (RFC 7644 §3.7): each operation's data as its method needs."""
    key = key_of(body, "Operations")
    operations = body.get(key) if key is not None else None
    if not isinstance(operations, list):
        return body
    for op in operations:
        if not isinstance(op, dict):
            continue
        method, path, data = op.get("method"), op.get("path"), op.get("data")
        if not isinstance(method, str) or not isinstance(path, str) or not isinstance(data, dict):
            continue
        target = bulk_target(path)
        if target is None:
            continue
        rt = target[0].rt
        method = method.upper()
        if method in ("POST", "PUT"):
            normalize_resource_body(data, rt, registered)
        elif method == "PATCH":
            normalize_patch_body(data, rt, registered)
    return body


def _rewrite_object(obj: dict[Any, Any], shape: Shape) -> None:
    """Keys first (so that values are found under their canonical names), then
    values. Key rewrites only concern keys holding ``:`` or ``.``; most bodies
    have none, and then one pass over the keys does everything."""
    if _fix_values(obj, shape):
        for rewrite in RESOURCE_REWRITES:
            rewrite(obj, shape)
        _fix_values(obj, shape)


def _fix_values(obj: dict[Any, Any], shape: Shape) -> bool:
    """Apply the value fixes; True when some key still needs a key rewrite."""
    plans = shape.plans
    rewrite_keys = False
    for key, value in obj.items():
        if not isinstance(key, str):
            continue
        lowered = key.lower()
        plan = plans.get(lowered)
        if plan is not None:
            new = fix_value(plan, value)
            if new is not value:
                obj[key] = new
        elif ":" in lowered:
            extension = shape.extension_plans.get(lowered)
            if extension is None:
                rewrite_keys = True
            elif isinstance(value, dict):
                fix_object(value, extension)
        elif "." in lowered:
            rewrite_keys = True
    return rewrite_keys


_PLANS: dict[int, tuple[Attribute, AttrPlan | None]] = {}


def _plan_of(attr: Attribute) -> AttrPlan | None:
    # Keyed by identity, like the model's compiled attributes; the schemas are module constants.
    entry = _PLANS.get(id(attr))
    if entry is None or entry[0] is not attr:
        if len(_PLANS) >= 4096:  # attributes built on the fly (tests, tenants) must not pile up
            _PLANS.clear()
        entry = _PLANS[id(attr)] = (attr, compile_plan(attr, VALUE_FIXES))
    return entry[1]


def _rewrite_operation(rewrite: Any, op: Any, shape: Shape) -> list[Any]:
    if not isinstance(op, dict):
        return [op]
    replaced = rewrite(op, shape)
    return [op] if replaced is None else replaced


def _rewrite_operation_value(op: dict[Any, Any], shape: Shape) -> None:
    value_key = key_of(op, "value")
    if value_key is None:
        return
    value = op[value_key]
    path_key = key_of(op, "path")
    path = op.get(path_key) if path_key is not None else None
    if not isinstance(path, str) or not path.strip():
        if isinstance(value, dict):  # read like a PUT body (RFC 7644 §3.5.2.1)
            _rewrite_object(value, shape)
        return
    new = _fix_at_path(path, value, shape)
    if new is not value:
        op[value_key] = new


def _fix_at_path(path: str, value: Any, shape: Shape) -> Any:
    """``value`` typed for the attribute ``path`` names; unchanged when the
    path does not parse or resolve (the model reports that)."""
    try:
        parsed = parse_path(path)
    except BadRequest:
        return value
    ap = parsed.path
    base = f"{ap.uri}:{ap.attr}" if ap.uri else ap.attr
    if ap.sub is None and parsed.filter is None:
        schema = shape.schema(base)
        if schema is not None:  # a whole schema as the target
            if isinstance(value, dict):
                if schema is shape.core:
                    _rewrite_object(value, shape)
                else:
                    fix_object(value, shape.extension_plans.get(schema.id.lower(), {}))
            return value
    try:
        resolved = resolve(shape.rt, base if ap.sub is None else f"{base}.{ap.sub}")
    except KeyError:
        return value
    attr, sub = resolved.attribute, resolved.sub_attribute
    if parsed.sub_after_filter is not None:
        sub = attr.sub(parsed.sub_after_filter)
        if sub is None:
            return value
    plan = _plan_of(sub if sub is not None else attr)
    return value if plan is None else fix_value(plan, value)
