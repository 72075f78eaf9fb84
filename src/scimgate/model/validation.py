"""The validator for the resources clients send in POST and PUT bodies.

Each resource type is compiled once into plain lookup tables (lower-cased
name -> field plan), so a request costs one dict lookup and one type check
per attribute instead of a walk over the schema definitions.

What the validator does follows RFC 7643:

* names are matched case-insensitively (§2.1) and rewritten to the
  canonical spelling, in complex and multi-valued items too;
* read-only attributes (§2.2), ``schemas`` and ``password`` are dropped:
  clients echo ``id``/``meta``/``groups`` back, and scimgate never stores
  passwords;
* null and empty values are unassigned (§2.5) and removed;
* unknown core attributes and unknown extensions are ignored, as
  Microsoft's validator expects.

It takes bodies in the RFC's shape. What identity providers send beyond it
(``"True"`` strings, a manager as a bare id, ``urn:...:User:employeeNumber``
or ``name.givenName`` keys) is rewritten into that shape before it gets here,
by ``scimgate.scim.compat``.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from scimgate.errors import InvalidValue
from scimgate.model.schemas import COMMON_ATTRIBUTES, Attribute, ResourceType, Schema

_STRING = 0  # also reference and binary: both travel as JSON strings
_BOOLEAN = 1
_INTEGER = 2
_DECIMAL = 3
_DATETIME = 4
_COMPLEX = 5

_KINDS = {
    "string": _STRING,
    "reference": _STRING,
    "binary": _STRING,
    "boolean": _BOOLEAN,
    "integer": _INTEGER,
    "decimal": _DECIMAL,
    "dateTime": _DATETIME,
    "complex": _COMPLEX,
}
_EXPECTED = {
    _STRING: "a string",
    _BOOLEAN: "a boolean",
    _INTEGER: "an integer",
    _DECIMAL: "a number",
    _DATETIME: "an ISO 8601 date and time",
    _COMPLEX: "an object",
}

# Attributes whose items stand for another resource by its id: an item
# without a value means nothing, so it is refused.
_BY_VALUE = frozenset({"members", "manager"})


class _Field:
    """One attribute, compiled for validation."""

    __slots__ = (
        "by_value",
        "drop",
        "has_primary",
        "kind",
        "multi",
        "name",
        "path",
        "required_subs",
        "separate",
        "subs",
    )

    def __init__(self, attr: Attribute, path: str, *, separate: bool = False) -> None:
        self.name = attr.name
        self.path = path
        self.kind = _KINDS[attr.type]
        self.multi = attr.multi_valued
        self.drop = attr.mutability in ("readOnly", "writeOnly")
        self.separate = separate
        self.by_value = attr.name in _BY_VALUE and attr.sub("value") is not None
        self.subs = {
            sub.name.lower(): _Field(sub, f"{path}.{sub.name}") for sub in attr.sub_attributes
        }
        required = [sub.name for sub in attr.sub_attributes if sub.required]
        if self.by_value and "value" not in required:
            required.append("value")
        self.required_subs = tuple(required)
        self.has_primary = self.multi and "primary" in self.subs


class _Extension:
    __slots__ = ("fields", "required", "urn")

    def __init__(self, schema: Schema) -> None:
        self.urn = schema.id
        self.fields = _fields(schema.attributes, f"{schema.id}:")
        self.required = tuple(a.name for a in schema.attributes if a.required)


class _Plan:
    __slots__ = ("core", "extensions", "required", "required_extensions")

    def __init__(self, rt: ResourceType) -> None:
        self.core = _fields(rt.schema.attributes + COMMON_ATTRIBUTES, "", group=rt.name == "Group")
        self.required = tuple(a.name for a in rt.schema.attributes if a.required)
        self.extensions = {ext.id.lower(): _Extension(ext) for ext in rt.extensions}
        self.required_extensions = tuple(rt.required_extensions)


def _fields(attrs: tuple[Attribute, ...], prefix: str, *, group: bool = False) -> dict[str, _Field]:
    return {
        a.name.lower(): _Field(a, prefix + a.name, separate=group and a.name == "members")
        for a in attrs
    }


_PLANS: dict[int, tuple[ResourceType, _Plan]] = {}
_MAX_PLANS = 256


def _plan_for(rt: ResourceType) -> _Plan:
    # Keyed by identity: hashing a ResourceType walks its whole schema tree.
    # The stored rt keeps the id from being reused by another object.
    entry = _PLANS.get(id(rt))
    if entry is None or entry[0] is not rt:
        if len(_PLANS) >= _MAX_PLANS:  # resource types built on the fly must not pile up
            _PLANS.clear()
        entry = (rt, _Plan(rt))
        _PLANS[id(rt)] = entry
    return entry[1]


@lru_cache(maxsize=64)
def _lowered(urns: frozenset[str]) -> dict[str, str]:
    return {urn.lower(): urn for urn in urns}


def _wrong(field: _Field, value: Any) -> InvalidValue:
    return InvalidValue(
        f"Attribute '{field.path}' must be {_EXPECTED[field.kind]}, not {type(value).__name__}"
    )


def _single(field: _Field, value: Any) -> Any:
    """One value of ``field`` normalized, or None when it is empty."""
    if value is None or value == "":
        return None
    kind = field.kind
    if kind == _STRING:
        if isinstance(value, str):
            return value
    elif kind == _COMPLEX:
        if isinstance(value, dict):
            return _complex(field, value)
    elif kind == _BOOLEAN:
        if value is True or value is False:
            return value
    elif kind == _INTEGER:
        if type(value) is int:
            return value
    elif kind == _DECIMAL:
        if type(value) is int or type(value) is float:
            return value
    elif kind == _DATETIME and isinstance(value, str):
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise _wrong(field, value) from None
        return value
    raise _wrong(field, value)


def _complex(field: _Field, value: dict[Any, Any]) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    subs = field.subs
    for key, item in value.items():
        sub = subs.get(key.lower()) if isinstance(key, str) else None
        if sub is None or sub.drop:
            continue
        normalized = _value(sub, item)
        if normalized is not None:
            out[sub.name] = normalized
    if not out:
        return None
    _check_required_subs(field, out)
    return out


def _check_required_subs(field: _Field, value: dict[str, Any]) -> None:
    for name in field.required_subs:
        if name not in value:
            raise InvalidValue(f"Attribute '{field.path}.{name}' is required")


def _value(field: _Field, value: Any) -> Any:
    """The value of ``field`` normalized, or None when it is empty."""
    if not field.multi:
        return _single(field, value)
    if value is None:
        return None
    if isinstance(value, list):
        items = value
    elif isinstance(value, dict):
        items = [value]
    else:
        raise InvalidValue(f"Attribute '{field.path}' must be an array")
    out = []
    primaries = 0
    for item in items:
        normalized = _single(field, item)
        if normalized is None:
            continue
        if field.has_primary and normalized.get("primary") is True:
            primaries += 1
        out.append(normalized)
    if primaries > 1:
        raise InvalidValue(f"Only one value of '{field.path}' may be primary (RFC 7643 §2.4)")
    return out or None


def _assign(target: dict[str, Any], field: _Field, value: Any, separated: dict[str, Any]) -> None:
    if field.drop:
        return
    normalized = _value(field, value)
    if field.separate:
        separated[field.name] = normalized or []
    elif normalized is None:
        target.pop(field.name, None)
    else:
        target[field.name] = normalized


def normalize_resource(
    payload: dict[str, Any],
    rt: ResourceType,
    *,
    registered_extensions: frozenset[str] = frozenset(),
) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
    """Validate a POST/PUT body and return ``(doc, members)``.

    ``doc`` follows the stored-document convention (canonical names,
    extensions under their URN, no ``id``/``meta``/``schemas``/``password``,
    no empty values). ``members`` is the normalized member list of a Group
    body — ``[]`` when the body gives ``members`` as empty or null, None when
    it does not mention them, so a PUT can tell "clear" from "leave alone".
    Extension URNs in ``registered_extensions`` are kept as sent, without
    validation; other unknown extensions are ignored.

    Raises InvalidValue naming the attribute for a wrong type, a missing
    required attribute or more than one primary value.
    """
    if not isinstance(payload, dict):
        raise InvalidValue("The resource must be a JSON object")
    plan = _plan_for(rt)
    core = plan.core
    doc: dict[str, Any] = {}
    separated: dict[str, Any] = {}
    deferred: list[tuple[str, Any]] = []
    for key, value in payload.items():
        if not isinstance(key, str):
            continue
        field = core.get(key.lower())
        if field is not None:
            _assign(doc, field, value, separated)
        elif key[:4].lower() == "urn:":
            deferred.append((key, value))
        # anything else is an unknown core attribute (or "schemas"): ignored
    if deferred:
        _fold_extensions(deferred, plan, doc, registered_extensions)
    for name in plan.required:
        if name not in doc:
            raise InvalidValue(f"Attribute '{name}' is required")
    for urn in plan.required_extensions:
        if urn not in doc:
            raise InvalidValue(f"The extension '{urn}' is required")
    return doc, separated.get("members")


def _fold_extensions(
    entries: list[tuple[str, Any]],
    plan: _Plan,
    doc: dict[str, Any],
    registered_extensions: frozenset[str],
) -> None:
    """Place the extension objects (``"urn:...:enterprise:2.0:User": {...}``)
    into ``doc``: known ones validated, registered ones kept as sent, any
    other URN ignored."""
    registered = _lowered(registered_extensions) if registered_extensions else {}
    for key, value in entries:
        lowered = key.lower()
        extension = plan.extensions.get(lowered)
        if extension is not None:
            _merge_extension(doc, extension, key, value)
        elif lowered in registered and value not in (None, "", {}, []):
            doc[registered[lowered]] = value
    for extension in plan.extensions.values():
        if extension.urn in doc:
            ext_doc = doc[extension.urn]
            if not ext_doc:
                del doc[extension.urn]
                continue
            for name in extension.required:
                if name not in ext_doc:
                    raise InvalidValue(f"Attribute '{extension.urn}:{name}' is required")


def _merge_extension(doc: dict[str, Any], extension: _Extension, key: str, value: Any) -> None:
    if value is None or value == "":
        return
    if not isinstance(value, dict):
        raise InvalidValue(f"The extension '{key}' must be an object")
    target = doc.setdefault(extension.urn, {})
    fields = extension.fields
    for name, item in value.items():
        field = fields.get(name.lower()) if isinstance(name, str) else None
        if field is not None:
            _assign(target, field, item, {})
