"""Group membership changes taken out of a PATCH (RFC 7644 §3.5.2).

Members are rows in ``group_members``, never a list in the Group document, so
a PATCH on a Group is split in two: the membership changes, in request order,
for the storage layer to turn into inserts and deletes, and the remaining
operations for ``apply_patch``.

What identity providers send, and what each becomes:

* ``add path=members value=[{"value": id}, ...]`` (Okta, Entra) ->
  ``AddMembers`` (a bare string id, as Microsoft's reference tests send, is
  rewritten into that shape by ``scimgate.scim.compat``);
* ``remove path=members[value eq "id"]`` (Okta; Entra with its compliance
  flag) -> ``RemoveMembers``; any other filter -> ``RemoveMembersWhere``;
* ``remove path=members value=[{"$ref": null, "value": id}]`` (Entra's
  default) -> ``RemoveMembers`` of just those, never all of them;
* ``remove path=members`` without a value -> ``RemoveAllMembers``;
* ``replace path=members value=[...]`` (Okta's "Push Now"; ``[]`` empties the
  group) -> ``ReplaceMembers``;
* a ``members`` key inside a path-less value object -> ``ReplaceMembers`` for
  replace, ``AddMembers`` for add.

An add or a remove whose value is an empty array changes nothing: clearing a
group takes a replace with ``[]`` or a remove without a value. Members are
whole: a path to one of their sub-attributes is a MutabilityViolation (value,
``$ref`` and type are immutable, display is read-only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from scimgate.errors import BadRequest, InvalidValue, MutabilityViolation
from scimgate.model.filter import Compare, Expr, Or, PatchPath
from scimgate.model.patch import ADD, REPLACE, PatchOperation, located
from scimgate.model.schemas import GROUP_SCHEMA

_GROUP_LOWER = GROUP_SCHEMA.lower()
_MEMBERS_KEYS = frozenset({"members", f"{_GROUP_LOWER}:members"})


@dataclass(frozen=True, slots=True)
class AddMembers:
    ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RemoveMembers:
    ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RemoveMembersWhere:
    """Remove the members a value filter selects, such as
    ``members[type eq "User" and value sw "a"]``."""

    filter: Expr


@dataclass(frozen=True, slots=True)
class RemoveAllMembers:
    pass


@dataclass(frozen=True, slots=True)
class ReplaceMembers:
    ids: tuple[str, ...]


MemberChange = AddMembers | RemoveMembers | RemoveMembersWhere | RemoveAllMembers | ReplaceMembers


def split_member_operations(
    ops: Sequence[PatchOperation],
) -> tuple[list[PatchOperation], list[MemberChange]]:
    """Separate the membership changes of a Group PATCH from its other operations.

    Returns the operations left for ``apply_patch`` and the membership
    changes in request order (adjacent adds, and adjacent removes by id, are
    merged). Raises InvalidValue for a member without a ``value``.
    """
    rest: list[PatchOperation] = []
    changes: list[MemberChange] = []
    for index, op in enumerate(ops):
        try:
            if op.path is None:
                _split_object(op, rest, changes)
            elif _is_members(op.path):
                _push(changes, _change(op, op.path))
            else:
                rest.append(op)
        except BadRequest as exc:
            raise located(exc, index) from exc
    return rest, changes


def _is_members(pp: PatchPath) -> bool:
    ap = pp.path
    return ap.attr.lower() == "members" and (ap.uri is None or ap.uri.lower() == _GROUP_LOWER)


def _split_object(
    op: PatchOperation, rest: list[PatchOperation], changes: list[MemberChange]
) -> None:
    value = op.value
    keys = [k for k in value if isinstance(k, str) and k.lower() in _MEMBERS_KEYS]
    if not keys:  # parse_patch_request guarantees an object here
        rest.append(op)
        return
    others = {k: v for k, v in value.items() if k not in keys}
    if others:
        rest.append(replace(op, value=others))
    ids = tuple(dict.fromkeys(i for k in keys for i in member_ids(value[k])))
    if op.op == REPLACE:
        _push(changes, ReplaceMembers(ids))
    elif ids:
        _push(changes, AddMembers(ids))


def _change(op: PatchOperation, pp: PatchPath) -> MemberChange | None:
    if pp.path.sub is not None or pp.sub_after_filter is not None:
        raise MutabilityViolation("Members cannot be changed in part: add or remove whole members")
    if pp.filter is not None:
        if op.op != "remove":
            raise MutabilityViolation(
                f"An {op.op} on filtered members is not possible: add or remove whole members"
            )
        ids = _ids_in_filter(pp.filter)
        return RemoveMembersWhere(pp.filter) if ids is None else RemoveMembers(ids)
    if op.op == ADD:
        ids = member_ids(op.value)
        return AddMembers(ids) if ids else None
    if op.op == REPLACE:
        return ReplaceMembers(member_ids(op.value))
    if not op.has_value or op.value is None:
        return RemoveAllMembers()
    ids = member_ids(op.value)
    return RemoveMembers(ids) if ids else None


def member_ids(value: Any) -> tuple[str, ...]:
    """The ids in a members value: ``[{"value": id, ...}]`` or one such
    object; duplicates dropped, order kept."""
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    ids: dict[str, None] = {}
    for item in items:
        found = None
        if isinstance(item, dict):
            found = item.get("value")
            if found is None:
                found = next((v for k, v in item.items() if k.lower() == "value"), None)
        if not isinstance(found, str) or not found:
            raise InvalidValue("Each member needs a 'value': the id of the member")
        ids[found] = None
    return tuple(ids)


def _ids_in_filter(expr: Expr) -> tuple[str, ...] | None:
    """The ids of ``value eq "a"`` (or ``value eq "a" or value eq "b"``), or
    None when the filter says anything else."""
    found: list[str] = []
    return tuple(dict.fromkeys(found)) if _collect_ids(expr, found) else None


def _collect_ids(expr: Expr, found: list[str]) -> bool:
    if isinstance(expr, Or):
        return _collect_ids(expr.left, found) and _collect_ids(expr.right, found)
    if (
        isinstance(expr, Compare)
        and expr.op == "eq"
        and isinstance(expr.value, str)
        and (expr.path.sub or expr.path.attr).lower() == "value"
    ):
        found.append(expr.value)
        return True
    return False


def _push(changes: list[MemberChange], change: MemberChange | None) -> None:
    """Append ``change``, folding it into the previous one when both add, or
    both remove by id: Okta sends one operation per member."""
    if change is None:
        return
    last = changes[-1] if changes else None
    if isinstance(change, AddMembers) and isinstance(last, AddMembers):
        changes[-1] = AddMembers(tuple(dict.fromkeys(last.ids + change.ids)))
    elif isinstance(change, RemoveMembers) and isinstance(last, RemoveMembers):
        changes[-1] = RemoveMembers(tuple(dict.fromkeys(last.ids + change.ids)))
    else:
        changes.append(change)
