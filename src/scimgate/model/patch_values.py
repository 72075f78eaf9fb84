"""Typing the values of PATCH operations against their attribute (RFC 7643 §2.3).

The rules match what ``validation`` applies to POST and PUT bodies, so that a
value is stored the same way whichever method sent it:

* names inside complex values are matched case-insensitively and rewritten to
  their canonical spelling; unknown and read-only sub-attributes are dropped;
* ``null`` and ``""`` are unassigned (§2.5).

Values arrive in the RFC's shape: what IdPs send beyond it (``"False"`` for a
boolean, a bare id for the manager, JSON text for a role) is rewritten by
``scimgate.scim.compat`` before the PATCH is parsed.

Each attribute is compiled once into an ``AttrInfo``, kept by identity, so a
value costs dict lookups rather than walks over the schema.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from scimgate.errors import InvalidValue
from scimgate.model.schemas import Attribute

_EXPECTED = {
    "string": "a string",
    "reference": "a string",
    "binary": "a string",
    "boolean": "a boolean",
    "integer": "an integer",
    "decimal": "a number",
    "dateTime": "an ISO 8601 date and time",
    "complex": "an object",
}


class AttrInfo:
    """One attribute with its sub-attribute table, compiled once."""

    __slots__ = ("attr", "has_primary", "required_subs", "subs")

    def __init__(self, attr: Attribute) -> None:
        self.attr = attr
        self.subs = {sub.name.lower(): sub for sub in attr.sub_attributes}
        self.has_primary = attr.multi_valued and "primary" in self.subs
        self.required_subs = tuple(sub.name for sub in attr.sub_attributes if sub.required)


_INFOS: dict[int, AttrInfo] = {}


def info(attr: Attribute) -> AttrInfo:
    """The compiled form of ``attr``. Keyed by identity: hashing an Attribute
    walks its sub-attributes, and ``AttrInfo.attr`` pins the id."""
    found = _INFOS.get(id(attr))
    if found is None or found.attr is not attr:
        found = _INFOS[id(attr)] = AttrInfo(attr)
    return found


def wrong_type(attr: Attribute, label: str, value: Any) -> InvalidValue:
    expected = "an array" if attr.multi_valued else _EXPECTED.get(attr.type, attr.type)
    return InvalidValue(f"Attribute '{label}' must be {expected}, not {type(value).__name__}")


def simple(attr: Attribute, value: Any, label: str) -> Any:
    """A value of a non-complex attribute, typed; None when it is unassigned."""
    if value is None or value == "":
        return None
    kind = attr.type
    if kind in ("string", "reference", "binary"):
        if isinstance(value, str):
            return value
    elif kind == "boolean":
        if value is True or value is False:
            return value
    elif kind == "integer":
        if type(value) is int:
            return value
    elif kind == "decimal":
        if type(value) is int or type(value) is float:
            return value
    elif kind == "dateTime" and isinstance(value, str):
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise wrong_type(attr, label, value) from None
        return value
    raise wrong_type(attr, label, value)


def complex_value(ai: AttrInfo, value: Any, label: str) -> dict[str, Any] | None:
    """One complex value (a single complex attribute, or one item of a
    multi-valued one) with canonical sub-attribute names; None when empty."""
    if value is None or value == "":
        return None
    if not isinstance(value, dict):
        raise InvalidValue(f"Attribute '{label}' must be an object, not {type(value).__name__}")
    out: dict[str, Any] = {}
    subs = ai.subs
    for key, item in value.items():
        sub = subs.get(key.lower()) if isinstance(key, str) else None
        if sub is None or sub.mutability in ("readOnly", "writeOnly"):
            continue
        typed = simple(sub, item, f"{label}.{sub.name}")
        if typed is not None:
            out[sub.name] = typed
    if not out:
        return None
    check_required_subs(ai, out, label)
    return out


def check_required_subs(ai: AttrInfo, value: dict[str, Any], label: str) -> None:
    for name in ai.required_subs:
        if name not in value:
            raise InvalidValue(f"Attribute '{label}.{name}' is required")


def values(ai: AttrInfo, value: Any, label: str) -> list[Any]:
    """The items of a multi-valued attribute, typed, without empties or exact
    duplicates. A single item given without its array is accepted."""
    if value is None:
        return []
    attr = ai.attr
    items = value if isinstance(value, list) else [value]
    out: list[Any] = []
    primaries = 0
    for raw in items:
        if attr.type == "complex":
            item = complex_value(ai, raw, label)
            if item is not None and item.get("primary") is True:
                primaries += 1
        else:
            item = simple(attr, raw, label)
        if item is not None and item not in out:
            out.append(item)
    if primaries > 1:
        raise InvalidValue(f"Only one value of '{label}' may be primary (RFC 7643 §2.4)")
    return out
