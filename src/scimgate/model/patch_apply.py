"""One PATCH operation applied to one attribute of a resource document.

``patch`` resolves paths and walks the operations; this module holds what
happens at the target: the rules of RFC 7644 §3.5.2.1 to §3.5.2.3 for each shape of
attribute (simple, complex, multi-valued, with a sub-attribute, behind a
value filter). Every function computes the attribute's new value from the
current one without modifying it, so the input document stays intact and
an error leaves nothing half-applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scimgate.errors import InvalidValue, MutabilityViolation, NoTarget
from scimgate.model.filter import And, Compare, Expr, Not, Or
from scimgate.model.matching import matches
from scimgate.model.patch_values import (
    AttrInfo,
    check_required_subs,
    complex_value,
    info,
    simple,
    values,
)
from scimgate.model.schemas import Attribute

_REMOVE = "remove"
_REPLACE = "replace"


@dataclass(frozen=True, slots=True)
class Target:
    """A resolved path. ``container`` is None for core attributes, else the
    extension URN the attribute lives under; ``label`` names the attribute in
    error messages; ``rows`` marks Group members, which are stored as rows."""

    container: str | None
    attr: Attribute
    sub: Attribute | None
    filter: Expr | None
    label: str
    rows: bool = False
    eq: tuple[str, str, bool] | None = None  # see ``eq_term``


class Work:
    """The document being patched: the input itself until the first write,
    then a shallow copy whose extension objects are copied when first touched.
    Values below that level are replaced whole, never modified in place."""

    __slots__ = ("copied", "orig", "root")

    def __init__(self, doc: dict[str, Any]) -> None:
        self.orig = doc
        self.root = doc
        self.copied: set[str] = set()

    def get(self, container: str | None, name: str) -> Any:
        if container is None:
            return self.root.get(name)
        holder = self.root.get(container)
        return holder.get(name) if isinstance(holder, dict) else None

    def set(self, container: str | None, name: str, value: Any) -> None:
        root = self.root
        if root is self.orig:
            root = self.root = dict(root)
        if container is None:
            holder = root
        elif container in self.copied:
            holder = root[container]
        else:
            previous = root.get(container)
            holder = root[container] = dict(previous) if isinstance(previous, dict) else {}
            self.copied.add(container)
        if value is None:
            holder.pop(name, None)
        else:
            holder[name] = value
        if container is not None and not holder:
            del root[container]
            self.copied.discard(container)


def apply_target(
    work: Work, op: str, t: Target, value: Any, has_value: bool, *, explicit: bool
) -> None:
    """Apply ``op`` with ``value`` at ``t``. ``explicit`` is True when the
    client wrote the path, False for a key of a path-less value object."""
    attr = t.attr
    if t.rows:
        raise ValueError("Group members must be split off with split_member_operations")
    if _left_alone(t, explicit):
        return
    current = work.get(t.container, attr.name)
    new = _new_value(op, t, info(attr), current, value, has_value)
    if new is current:
        return
    if new is None and attr.required:
        raise InvalidValue(f"Attribute '{t.label}' is required and cannot be removed")
    if attr.mutability == "immutable" and current is not None and new != current:
        raise MutabilityViolation(f"Attribute '{t.label}' is immutable and already has a value")
    work.set(t.container, attr.name, new)


def _left_alone(t: Target, explicit: bool) -> bool:
    """Whether the operation skips ``t``: a read-only attribute inside a
    path-less value object, or a write-only one. A read-only attribute the
    client named in its path is refused."""
    attr, sub = t.attr, t.sub
    if attr.mutability == "readOnly" or (sub is not None and sub.mutability == "readOnly"):
        if explicit:
            name = t.label if sub is None else f"{t.label}.{sub.name}"
            raise MutabilityViolation(f"Attribute '{name}' is read-only")
        return True
    # password: accepted, never stored
    return attr.mutability == "writeOnly" or (sub is not None and sub.mutability == "writeOnly")


def _new_value(op: str, t: Target, ai: AttrInfo, current: Any, value: Any, has_value: bool) -> Any:
    """The attribute's value after the operation, by the shape of the target."""
    attr, sub = t.attr, t.sub
    if t.filter is not None:
        return _filtered(op, t, ai, current, value)
    if attr.multi_valued:
        if sub is None:
            return _items(op, t, ai, current, value, has_value)
        return _sub_of_items(op, t, sub, ai, current, value)
    if sub is not None:
        return _sub_of_single(op, t, sub, ai, current, value)
    if attr.type == "complex":
        return _complex(op, t, ai, current, value)
    return None if op == _REMOVE else simple(attr, value, t.label)


def _complex(op: str, t: Target, ai: AttrInfo, current: Any, value: Any) -> Any:
    """A single complex attribute: add and replace merge the sub-attributes
    given (§3.5.2.3); null or "" removes it."""
    if op == _REMOVE:
        return None
    if not isinstance(value, dict):
        return complex_value(ai, value, t.label)
    old = current if isinstance(current, dict) else {}
    new = dict(old)
    subs = ai.subs
    for key, item in value.items():
        sub = subs.get(key.lower()) if isinstance(key, str) else None
        if sub is None or sub.mutability in ("readOnly", "writeOnly"):
            continue
        typed = simple(sub, item, f"{t.label}.{sub.name}")
        if typed is None:
            new.pop(sub.name, None)
        else:
            new[sub.name] = typed
    if new == old:
        return current
    if not new:
        return None
    check_required_subs(ai, new, t.label)
    return new


def _sub_of_single(
    op: str, t: Target, sub: Attribute, ai: AttrInfo, current: Any, value: Any
) -> Any:
    """``name.givenName``, ``urn:...:User:manager.value``."""
    old = current if isinstance(current, dict) else None
    name = sub.name
    typed = None if op == _REMOVE else simple(sub, value, f"{t.label}.{name}")
    if typed is None:
        if old is None or name not in old:
            return current
        if name in ai.required_subs:
            return None  # the manager without its id is no manager at all
        rest = {k: v for k, v in old.items() if k != name}
        return rest or None
    if old is not None and old.get(name) == typed:
        return current
    new = dict(old) if old is not None else {}
    new[name] = typed
    check_required_subs(ai, new, t.label)
    return new


def _items(op: str, t: Target, ai: AttrInfo, current: Any, value: Any, has_value: bool) -> Any:
    """A whole multi-valued attribute: add appends the new items, replace
    swaps the list, remove drops it, or with a value only the items listed."""
    items = current if isinstance(current, list) else []
    if op == _REMOVE:
        if not has_value or value is None:
            return None
        doomed = values(ai, value, t.label)
        kept = [item for item in items if not any(_selects(d, item) for d in doomed)]
        if len(kept) == len(items):
            return current
        return kept or None
    given = values(ai, value, t.label)
    if op == _REPLACE:
        return given or None
    result = list(items)
    touched = []
    for item in given:
        if item not in result:
            touched.append(len(result))
            result.append(item)
    if not touched:
        return current
    if ai.has_primary:
        _settle_primary(result, touched)
    return result


def _sub_of_items(
    op: str, t: Target, sub: Attribute, ai: AttrInfo, current: Any, value: Any
) -> Any:
    """``emails.type`` without a filter: every item, or one new item when
    there is none yet."""
    items = current if isinstance(current, list) else []
    typed = None if op == _REMOVE else simple(sub, value, f"{t.label}.{sub.name}")
    if typed is None:
        return _strip(current, items, range(len(items)), sub.name)
    if not items:
        return [{sub.name: typed}]
    result = [{**item, sub.name: typed} if isinstance(item, dict) else item for item in items]
    if ai.has_primary:
        _settle_primary(result, range(len(result)))
    return current if result == items else result


def _filtered(op: str, t: Target, ai: AttrInfo, current: Any, value: Any) -> Any:
    """``emails[type eq "work"]`` and ``emails[type eq "work"].value``."""
    assert t.filter is not None
    items = current if isinstance(current, list) else []
    hits = _hits(t, t.filter, items)
    patch = _filter_patch(op, t, ai, value)
    if patch is None:
        return _remove_hits(t, current, items, hits)
    result, touched = _patch_hits(op, t, t.filter, ai, items, hits, patch)
    if ai.has_primary:
        _settle_primary(result, touched)
    return current if result == items else result


def _hits(t: Target, flt: Expr, items: list[Any]) -> list[int]:
    """The positions of the items the filter selects."""
    if t.eq is not None:
        name, wanted, exact = t.eq
        return [i for i, item in enumerate(items) if _equals(item, name, wanted, exact)]
    return [
        i for i, item in enumerate(items) if isinstance(item, dict) and matches(flt, item, t.attr)
    ]


def _filter_patch(op: str, t: Target, ai: AttrInfo, value: Any) -> dict[str, Any] | None:
    """What to write into each selected item; None when the operation removes."""
    sub = t.sub
    if sub is not None:
        typed = None if op == _REMOVE else simple(sub, value, f"{t.label}.{sub.name}")
        return None if typed is None else {sub.name: typed}
    return None if op == _REMOVE else complex_value(ai, value, t.label)


def _remove_hits(t: Target, current: Any, items: list[Any], hits: list[int]) -> Any:
    if t.sub is not None:
        return _strip(current, items, hits, t.sub.name)
    if not hits:
        return current
    chosen = set(hits)
    return [item for i, item in enumerate(items) if i not in chosen] or None


def _patch_hits(
    op: str,
    t: Target,
    flt: Expr,
    ai: AttrInfo,
    items: list[Any],
    hits: list[int],
    patch: dict[str, Any],
) -> tuple[list[Any], list[int]]:
    """The items with ``patch`` written into the selected ones, or into a new
    item the filter describes when it selects none; and the positions written."""
    result = list(items)
    if hits:
        # replace of a whole item swaps it (the filter's eq terms kept as
        # defaults so it still answers to the filter); add merges into it
        base = (_seed(ai, flt) or {}) if t.sub is None and op == _REPLACE else None
        for i in hits:
            result[i] = {**base, **patch} if base is not None else {**items[i], **patch}
        return result, hits
    seed = _seed(ai, flt)
    if seed is None:
        raise NoTarget(f"No value of '{t.label}' matches the filter")
    result.append({**seed, **patch})
    return result, [len(result) - 1]


def typed_filter(attr: Attribute, flt: Expr) -> Expr:
    """``flt`` with ``"True"``/``"false"`` strings compared to boolean
    sub-attributes read as booleans: Entra writes ``roles[primary eq "True"]``,
    which the filter grammar keeps as a string. (The compatibility registry
    lists this as ``string-booleans-in-value-filters``: it needs the parsed
    filter and the attribute, so it lives here rather than in a rewrite.)"""
    if isinstance(flt, And | Or):
        left, right = typed_filter(attr, flt.left), typed_filter(attr, flt.right)
        if left is flt.left and right is flt.right:
            return flt
        return type(flt)(left, right)
    if isinstance(flt, Not):
        inner = typed_filter(attr, flt.expr)
        return flt if inner is flt.expr else Not(inner)
    if isinstance(flt, Compare) and isinstance(flt.value, str):
        sub = info(attr).subs.get((flt.path.sub or flt.path.attr).lower())
        lowered = flt.value.lower()
        if sub is not None and sub.type == "boolean" and lowered in ("true", "false"):
            return Compare(flt.path, flt.op, lowered == "true")
    return flt


def eq_term(attr: Attribute, flt: Expr | None) -> tuple[str, str, bool] | None:
    """``(sub-attribute, value, case_exact)`` for a filter that is one ``eq``
    on a string sub-attribute (``type eq "work"``, the filter IdPs send), so
    that items can be picked without the general evaluator. Same answers as
    ``matches``: stored keys are canonical, strings compare by the
    sub-attribute's caseExact."""
    if not isinstance(flt, Compare) or flt.op != "eq" or not isinstance(flt.value, str):
        return None
    if flt.path.uri is not None:
        return None
    sub = info(attr).subs.get((flt.path.sub or flt.path.attr).lower())
    if sub is None or sub.type != "string" or sub.multi_valued:
        return None
    exact = sub.case_exact
    return sub.name, flt.value if exact else flt.value.lower(), exact


def _equals(item: Any, name: str, wanted: str, exact: bool) -> bool:
    if not isinstance(item, dict):
        return False
    actual = item.get(name)
    if not isinstance(actual, str):
        return False
    return actual == wanted if exact else actual.lower() == wanted


def _strip(current: Any, items: list[Any], hits: Any, name: str) -> Any:
    """The items with sub-attribute ``name`` removed from those at ``hits``.
    Removing ``value`` removes the item: an email without its address means
    nothing."""
    chosen = set(hits)
    result = []
    changed = False
    for i, item in enumerate(items):
        if i in chosen and isinstance(item, dict) and name in item:
            changed = True
            if name == "value":
                continue
            item = {k: v for k, v in item.items() if k != name}
            if not item:
                continue
        result.append(item)
    if not changed:
        return current
    return result or None


def _seed(ai: AttrInfo, flt: Expr) -> dict[str, Any] | None:
    """The item a filter of ``eq`` terms joined by ``and`` describes, or None
    when the filter is anything else."""
    out: dict[str, Any] = {}
    return out if _collect(ai, flt, out) and out else None


def _collect(ai: AttrInfo, expr: Expr, out: dict[str, Any]) -> bool:
    if isinstance(expr, And):
        return _collect(ai, expr.left, out) and _collect(ai, expr.right, out)
    if not isinstance(expr, Compare) or expr.op != "eq":
        return False
    sub = ai.subs.get((expr.path.sub or expr.path.attr).lower())
    if sub is None:
        return False
    try:
        typed = simple(sub, expr.value, sub.name)
    except InvalidValue:
        return False
    if typed is None:
        return False
    out[sub.name] = typed
    return True


def _selects(given: Any, item: Any) -> bool:
    """Whether ``item`` is one that a remove's value names: every
    sub-attribute the client gave matches."""
    if isinstance(given, dict):
        return isinstance(item, dict) and all(item.get(k) == v for k, v in given.items())
    return bool(item == given)


def _settle_primary(result: list[Any], touched: Any) -> None:
    """RFC 7643 §2.4: at most one item is primary. The last item this
    operation set primary wins; the flag is taken off the others."""
    winner = -1
    for i in touched:
        item = result[i]
        if isinstance(item, dict) and item.get("primary") is True:
            winner = i
    if winner < 0:
        return
    for i, item in enumerate(result):
        if i != winner and isinstance(item, dict) and item.get("primary") is True:
            result[i] = {k: v for k, v in item.items() if k != "primary"}
