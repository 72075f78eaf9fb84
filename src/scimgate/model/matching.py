"""Evaluating a parsed SCIM filter against one JSON object in memory.

Used where the object is already in memory (value filters in PATCH paths,
profile mappings, member filters); ``storage/filters.py`` compiles the same
trees to SQL with the same semantics, and shares ``compare_value`` for
comparisons it can decide before querying.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from scimgate.errors import InvalidFilter
from scimgate.model.filter import (
    And,
    AttrPath,
    Compare,
    Expr,
    Not,
    Or,
    Present,
    Value,
    check_comparison,
    parse_datetime,
)
from scimgate.model.identity import fold_user_name, fold_user_name_part
from scimgate.model.keys import MISSING, member
from scimgate.model.schemas import GROUP_SCHEMA, USER, USER_SCHEMA, Attribute

_CORE_URNS = frozenset({USER_SCHEMA.lower(), GROUP_SCHEMA.lower()})
_USER_NAME = USER.schema.attribute("userName")


def _sub_def(attribute: Attribute | None, name: str) -> Attribute | None:
    return attribute.sub(name) if attribute is not None and attribute.sub_attributes else None


def _values(
    obj: dict[str, Any], path: AttrPath, parent: Attribute | None
) -> tuple[list[Any], Attribute | None]:
    """The values ``path`` designates in ``obj`` (flattened over multi-valued
    attributes) and the definition that types them, when known."""
    container: Any = obj
    if path.uri is not None:
        scoped = member(obj, path.uri)
        if scoped is not MISSING:
            container = scoped
        elif path.uri.lower() not in _CORE_URNS:
            return [], None
    definition = _sub_def(parent, path.attr)
    head = member(container, path.attr)
    if head is MISSING or head is None:
        return [], definition
    items = head if isinstance(head, list) else [head]
    if path.sub is None:
        return items, definition
    sub_definition = _sub_def(definition, path.sub)
    found = []
    for item in items:
        value = member(item, path.sub)
        if value is not MISSING and value is not None:
            found.append(value)
    return found, sub_definition


def _present(value: Any) -> bool:
    if value is None or value == "" or value == [] or value == {}:
        return False
    if isinstance(value, dict):
        return any(_present(item) for item in value.values())
    if isinstance(value, list):
        return any(_present(item) for item in value)
    return True


# Operators on two prepared operands; ``ne`` is ``not eq`` over all values, so
# it never reaches here, and ``le`` is the last remaining operator.
_OPERATORS: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "eq": operator.eq,
    "co": operator.contains,
    "sw": lambda left, right: left.startswith(right),
    "ew": lambda left, right: left.endswith(right),
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
}
_LAST: Final[Callable[[Any, Any], Any]] = operator.le


def compare_value(actual: Any, op: str, expected: Value, definition: Attribute | None) -> bool:
    """One stored value against a non-null filter value (``ne`` excluded:
    it is ``not eq`` over all values); incomparable types never match."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and (actual == expected)
    operands = _operands(actual, op, expected, definition)
    if operands is None:
        return False
    left, right = operands
    return bool(_OPERATORS.get(op, _LAST)(left, right))


def _operands(
    actual: Any, op: str, expected: Value, definition: Attribute | None
) -> tuple[Any, Any] | None:
    """The two sides in a form they compare in (dateTimes parsed, strings folded
    unless case-exact, userNames by their own rule), or None when the stored
    value cannot be compared."""
    kind = definition.type if definition is not None else None
    if kind == "dateTime" and isinstance(expected, str):
        right = parse_datetime(expected)
        try:
            left = actual if isinstance(actual, datetime) else parse_datetime(str(actual))
        except InvalidFilter:
            return None
        return left, right
    if isinstance(expected, str):
        if not isinstance(actual, str):
            return None
        if definition is not None and definition.case_exact:
            return actual, expected
        if definition == _USER_NAME:
            # The same folds as the store's userName column and filter values.
            wanted = fold_user_name(expected) if op == "eq" else fold_user_name_part(expected)
            return fold_user_name(actual), wanted
        return actual.lower(), expected.lower()
    if isinstance(actual, int | float) and expected is not None:
        return actual, expected
    return None


def _matches_compare(expr: Compare, obj: dict[str, Any], parent: Attribute | None) -> bool:
    values, definition = _values(obj, expr.path, parent)
    # A comparison on a multi-valued complex attribute compares its "value" sub-attribute.
    if expr.path.sub is None and values and all(isinstance(value, dict) for value in values):
        values = [value.get("value") for value in values if value.get("value") is not None]
        definition = _sub_def(definition, "value")
    op = expr.op
    check_comparison(op, expr.value, definition)
    if expr.value is None:
        return any(_present(value) for value in values) == (op == "ne")
    if op == "ne":
        return not any(compare_value(value, "eq", expr.value, definition) for value in values)
    return any(compare_value(value, op, expr.value, definition) for value in values)


def matches(expr: Expr, obj: dict[str, Any], attribute: Attribute | None = None) -> bool:
    """Evaluate ``expr`` against one JSON object in memory (used for value
    filters inside PATCH paths, e.g. one item of ``emails``). ``attribute`` is
    the complex attribute ``obj`` is an instance of; its sub-attributes say
    which comparisons are case-exact (case-insensitive when unknown).

    Semantics match the SQL compiler's: ``ne`` is ``not eq`` (so a missing
    attribute is ``ne`` anything), a comparison on a multi-valued attribute
    holds when any value satisfies it, ``pr`` ignores null and empty values,
    ordering applies to strings, numbers and dateTimes. A comparison the
    attribute's type cannot take (``gt`` on a boolean, ``co`` on a number)
    raises ``InvalidFilter``.
    """
    if isinstance(expr, Compare):
        return _matches_compare(expr, obj, attribute)
    if isinstance(expr, And):
        return matches(expr.left, obj, attribute) and matches(expr.right, obj, attribute)
    if isinstance(expr, Or):
        return matches(expr.left, obj, attribute) or matches(expr.right, obj, attribute)
    if isinstance(expr, Not):
        return not matches(expr.expr, obj, attribute)
    if isinstance(expr, Present):
        values, _ = _values(obj, expr.path, attribute)
        return any(_present(value) for value in values)
    values, definition = _values(obj, expr.path, attribute)
    return any(isinstance(item, dict) and matches(expr.filter, item, definition) for item in values)
