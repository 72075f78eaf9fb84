"""Value rewrites: attribute values that IdPs send in a shape RFC 7643 does not allow.

Each fix is a function ``(attribute, value) -> value`` applied to one value of
one attribute (an item, for a multi-valued attribute) wherever it appears: in
a POST or PUT body, in a path-less PATCH value object, or as the value of a
PATCH operation whose path names that attribute. A fix returns the value
unchanged when it does not apply.

Which fixes can apply to which attribute is decided once per attribute (a
``ValueFix`` carries that test): the walker then visits only the attributes,
and the sub-attributes, that some fix concerns. An Okta create touches two of
its ten attributes (``active``, ``emails.primary``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from scimgate.model.schemas import Attribute, Schema


@dataclass(frozen=True, slots=True)
class ValueFix:
    """A fix and the test saying which attributes it can concern."""

    fix: Callable[[Attribute, Any], Any]
    applies: Callable[[Attribute], bool]


# Attributes that point to another resource by its id.
_BY_ID = frozenset({"manager", "members"})
# Entra ID sends app-role assignments as JSON text inside the item's value.
_JSON_ITEMS = frozenset({"roles", "entitlements"})


def string_booleans(attr: Attribute, value: Any) -> Any:
    """``"True"``/``"false"`` (any case) for a boolean: Entra ID disables users
    with ``{"op": "Replace", "path": "active", "value": "False"}``."""
    if attr.type == "boolean" and isinstance(value, str):
        lowered = value.lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
    return value


def bare_id_references(attr: Attribute, value: Any) -> Any:
    """A bare id for a reference (``"manager": "<id>"`` from Entra ID, a member
    given as ``"<id>"`` in Microsoft's reference tests) is ``{"value": id}``.

    For the single-valued manager the other writable sub-attributes are
    cleared too: the id names a whole new reference, and a PATCH merges
    complex values (RFC 7644 §3.5.2.3), which would keep the old ``$ref``."""
    if not isinstance(value, str) or not value or attr.name not in _BY_ID:
        return value
    if attr.type != "complex" or attr.sub("value") is None:
        return value
    item: dict[str, Any] = {"value": value}
    if not attr.multi_valued:
        for sub in attr.sub_attributes:
            if sub.name != "value" and sub.mutability in ("readWrite", "immutable"):
                item[sub.name] = None
    return item


def json_encoded_role_values(attr: Attribute, value: Any) -> Any:
    """``{"value": "{\\"id\\":..,\\"value\\":\\"25\\",\\"displayName\\":..}"}``
    becomes ``{"value": "25", "display": ..}`` (Entra ID's app-role
    assignments). The encoded object wins over the item's other keys; its
    ``displayName`` is the role's ``display``; an item whose text does not
    decode to an object is left as it is."""
    if attr.name not in _JSON_ITEMS or attr.type != "complex":
        return value
    if isinstance(value, str) and value.startswith("{"):
        value = {"value": value}
    if not isinstance(value, dict):
        return value
    text = next((v for k, v in value.items() if isinstance(k, str) and k.lower() == "value"), None)
    if not isinstance(text, str) or not text.startswith("{"):
        return value
    try:
        decoded = orjson.loads(text)
    except orjson.JSONDecodeError:
        return value  # an odd role name that happens to start with "{": keep it as text
    if not isinstance(decoded, dict):
        return value
    merged = {k: v for k, v in value.items() if not (isinstance(k, str) and k.lower() == "value")}
    merged.update(decoded)
    if "displayName" in decoded and not any(k.lower() == "display" for k in decoded):
        merged["display"] = decoded["displayName"]
    return merged


def _is_boolean(attr: Attribute) -> bool:
    return attr.type == "boolean"


def _is_reference_by_id(attr: Attribute) -> bool:
    return attr.name in _BY_ID and attr.type == "complex" and attr.sub("value") is not None


def _is_json_item(attr: Attribute) -> bool:
    return attr.name in _JSON_ITEMS and attr.type == "complex"


STRING_BOOLEANS = ValueFix(string_booleans, _is_boolean)
BARE_ID_REFERENCES = ValueFix(bare_id_references, _is_reference_by_id)
JSON_ENCODED_ROLE_VALUES = ValueFix(json_encoded_role_values, _is_json_item)


# -- the walker -------------------------------------------------------------------


class AttrPlan:
    """The fixes that concern one attribute, and the plans of those of its
    sub-attributes that some fix concerns (keyed by lower-cased name)."""

    __slots__ = ("attr", "fixes", "subs")

    def __init__(
        self,
        attr: Attribute,
        fixes: tuple[Callable[[Attribute, Any], Any], ...],
        subs: dict[str, AttrPlan],
    ) -> None:
        self.attr = attr
        self.fixes = fixes
        self.subs = subs


def compile_plan(attr: Attribute, fixes: Sequence[ValueFix]) -> AttrPlan | None:
    """The plan for ``attr``, or None when no fix concerns it or its parts."""
    own = tuple(f.fix for f in fixes if f.applies(attr))
    subs: dict[str, AttrPlan] = {}
    for sub in attr.sub_attributes:
        plan = compile_plan(sub, fixes)
        if plan is not None:
            subs[sub.name.lower()] = plan
    return AttrPlan(attr, own, subs) if own or subs else None


def fix_value(plan: AttrPlan, value: Any) -> Any:
    """The whole value of the planned attribute (a list for a multi-valued
    one, or a single item sent without its array) with its fixes applied."""
    if plan.attr.multi_valued and isinstance(value, list):
        out: list[Any] | None = None
        for index, item in enumerate(value):
            new = _fix_one(plan, item)
            if new is not item:
                if out is None:
                    out = list(value)
                out[index] = new
        return value if out is None else out
    return _fix_one(plan, value)


def _fix_one(plan: AttrPlan, value: Any) -> Any:
    attr = plan.attr
    for fix in plan.fixes:
        value = fix(attr, value)
    if plan.subs and isinstance(value, dict):
        for key, item in value.items():
            sub = plan.subs.get(key.lower()) if isinstance(key, str) else None
            if sub is not None:
                new = fix_value(sub, item)
                if new is not item:
                    value[key] = new  # an existing key: safe while iterating
    return value


def fix_object(obj: dict[Any, Any], plans: dict[str, AttrPlan]) -> None:
    """Fix the attributes of ``obj`` that ``plans`` (lower-cased name -> plan) names."""
    for key, value in obj.items():
        plan = plans.get(key.lower()) if isinstance(key, str) else None
        if plan is not None:
            new = fix_value(plan, value)
            if new is not value:
                obj[key] = new


def schema_plans(schema: Schema, fixes: Sequence[ValueFix]) -> dict[str, AttrPlan]:
    plans = {}
    for attr in schema.attributes:
        plan = compile_plan(attr, fixes)
        if plan is not None:
            plans[attr.name.lower()] = plan
    return plans
