"""What the compatibility rewrites need to know about a resource type, compiled once.

A rewrite runs on every POST, PUT and PATCH, so the URN tables and attribute
lookups it needs are built once per resource type (and set of extensions the
tenant registered) and then cost one dict lookup each.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scimgate.model.keys import key_of
from scimgate.model.schemas import COMMON_ATTRIBUTES, ResourceType, Schema
from scimgate.scim.compat.values import AttrPlan, ValueFix, compile_plan, schema_plans


class Shape:
    """A resource type as the rewrites see it.

    ``urns`` maps every schema URN a body may use as a key, lower-cased, to
    its canonical spelling: the core schema, the typed extensions and the
    extensions the tenant registered (which are kept untyped). ``plans`` are
    the value fixes' plans for top-level keys (core attributes, and extension
    attributes given without their URN, as ``resolve`` reads them);
    ``extension_plans`` those inside each extension object.
    """

    __slots__ = (
        "core",
        "core_urn",
        "core_urn_lowered",
        "extension_plans",
        "extensions",
        "plans",
        "rt",
        "urns",
    )

    def __init__(
        self, rt: ResourceType, registered: frozenset[str], fixes: Sequence[ValueFix]
    ) -> None:
        self.rt = rt
        self.core: Schema = rt.schema
        self.core_urn = rt.schema.id
        self.core_urn_lowered = rt.schema.id.lower()
        self.extensions = {schema.id.lower(): schema for schema in rt.extensions}
        urns = {urn.lower(): urn for urn in registered}
        urns.update({schema.id.lower(): schema.id for schema in (rt.schema, *rt.extensions)})
        self.urns = urns
        self.extension_plans = {
            urn: schema_plans(schema, fixes) for urn, schema in self.extensions.items()
        }
        plans: dict[str, AttrPlan] = {}
        for attr in (*rt.schema.attributes, *COMMON_ATTRIBUTES):
            plan = compile_plan(attr, fixes)
            if plan is not None:
                plans[attr.name.lower()] = plan
        for extension in self.extension_plans.values():
            for name, plan in extension.items():
                plans.setdefault(name, plan)
        self.plans = plans

    def schema(self, urn: str) -> Schema | None:
        """The typed schema (core or extension) whose URN is ``urn``, or None."""
        lowered = urn.lower()
        if lowered == self.core_urn_lowered:
            return self.core
        return self.extensions.get(lowered)


_SHAPES: dict[tuple[int, frozenset[str]], tuple[ResourceType, Shape]] = {}
_MAX_SHAPES = 512


def shape_for(rt: ResourceType, registered: frozenset[str], fixes: Sequence[ValueFix]) -> Shape:
    """The shape of ``rt`` for a tenant with ``registered`` extensions. The
    fixes are the registry's, the same on every call."""
    # Keyed by identity: hashing a ResourceType walks its whole schema tree.
    key = (id(rt), registered)
    entry = _SHAPES.get(key)
    if entry is None or entry[0] is not rt:
        if len(_SHAPES) >= _MAX_SHAPES:  # tenants' extension sets are few, but bound them
            _SHAPES.clear()
        entry = (rt, Shape(rt, registered, fixes))
        _SHAPES[key] = entry
    return entry[1]


def set_key(obj: dict[Any, Any], name: str, value: Any) -> None:
    """``obj[name] = value``, writing over a key that differs only in case."""
    existing = key_of(obj, name)
    obj[name if existing is None else existing] = value
