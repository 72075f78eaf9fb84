"""SCIM PATCH (RFC 7644 §3.5.2) over stored resource documents.

``parse_patch_request`` checks a PatchOp message and parses every path once;
``apply_patch`` applies the operations to a document and returns a new one.
Group membership never passes through here: ``patch_members`` splits it off
first, because members are rows, not a list in the document.

Choices where the RFC is silent (what identity providers send beyond the
RFC, such as Entra's ``"op": "Replace"`` or ``name.givenName`` keys, is
rewritten into the RFC's shape by ``scimgate.scim.compat`` first):

* ``op`` is ``add``, ``replace`` or ``remove`` as RFC 7644 spells them; the
  member names of the message (``Operations``, ``op``, ``path``, ``value``)
  are matched case-insensitively (RFC 7643 §2.1).
* ``schemas``, when present, must list the PatchOp URN, other URIs beside it
  are ignored; a message without ``schemas`` is accepted.
* More operations than the configured maximum is 413 PayloadTooLarge, the
  status RFC 7644 §3.7.4 gives for an oversized bulk request: the client must
  split the request, not fix a value.
* A path-less value object is read like a PUT body: ``id``, ``meta``,
  ``schemas``, read-only and unknown attributes are ignored (Okta echoes
  ``id`` in every group rename); its keys are attribute names or an
  extension URN holding an object, and a key that is a path (dotted,
  URN-prefixed, filtered) is ignored like an unknown one. An explicit path to
  a read-only attribute is a MutabilityViolation, to an unknown one InvalidPath.
* ``password`` (writeOnly) is accepted and dropped: scimgate stores none.
* ``null`` and ``""`` mean unassigned, so add/replace with them removes the
  target; replace with ``[]`` empties a multi-valued attribute, while add with
  ``[]`` adds nothing (§3.5.2.1: the values are added to the existing set).
* add and replace on a single complex attribute merge sub-attributes
  (§3.5.2.3: sub-attributes not given are left unchanged).
* A value filter that matches nothing: add/replace create an item from the
  filter's ``eq`` terms (Entra's ``emails[type eq "work"].value``), or fail
  with NoTarget when the filter says no more than which items to pick; remove
  does nothing.
* Removing ``value`` from the selected items removes the items (an item is
  its value); ``remove`` with a value array on a multi-valued attribute
  removes the items it lists, as Entra does for roles.
* The operations are atomic: the input document is never modified, so an
  error in any operation leaves it as it was.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from scimgate.errors import (
    BadRequest,
    InvalidPath,
    InvalidSyntax,
    InvalidValue,
    NoTarget,
    PayloadTooLarge,
)
from scimgate.model.filter import Expr, PatchPath, parse_path
from scimgate.model.keys import MISSING, member
from scimgate.model.patch_apply import Target, Work, apply_target, eq_term, typed_filter
from scimgate.model.schemas import PATCH_OP_SCHEMA, Attribute, ResourceType, Schema, resolve

ADD: Final = "add"
REPLACE: Final = "replace"
REMOVE: Final = "remove"
_OPS = {ADD: ADD, REPLACE: REPLACE, REMOVE: REMOVE}
_PATCH_OP_LOWER = PATCH_OP_SCHEMA.lower()
_IGNORED_KEYS = frozenset({"id", "meta", "schemas"})
_NAME = re.compile(r"[A-Za-z$_][A-Za-z0-9$_\-]*\Z")


@dataclass(frozen=True, slots=True)
class PatchOperation:
    """One parsed operation. ``value`` is the raw JSON value (None when
    ``has_value`` is False); ``path_text`` is the path as sent."""

    op: str  # "add", "replace" or "remove"
    path: PatchPath | None = None
    value: Any = None
    has_value: bool = False
    path_text: str | None = None


@dataclass(frozen=True, slots=True)
class PatchResult:
    """The patched document and whether it differs from the original. When
    nothing changed, ``doc`` is the input document itself."""

    doc: dict[str, Any]
    changed: bool


def located(exc: BadRequest, index: int) -> BadRequest:
    """The same error, its detail prefixed by the operation it comes from."""
    return type(exc)(f"Operations[{index}]: {exc.detail}")


# -- parsing ---------------------------------------------------------------------


def parse_patch_request(body: Any, *, max_operations: int) -> list[PatchOperation]:
    """Validate a PatchOp message (RFC 7644 §3.5.2) and parse its operations.

    Raises InvalidSyntax for a malformed message or an unknown ``op``,
    PayloadTooLarge beyond ``max_operations``, InvalidPath/InvalidFilter for a
    bad path, NoTarget for a remove without path, InvalidValue for a missing
    or misshapen value.
    """
    if not isinstance(body, dict):
        raise InvalidSyntax("A PATCH body must be a JSON object")
    schemas = member(body, "schemas")
    if schemas is not MISSING:
        if not isinstance(schemas, list) or not all(isinstance(s, str) for s in schemas):
            raise InvalidSyntax("'schemas' must be an array of strings")
        if not any(s.lower() == _PATCH_OP_LOWER for s in schemas):
            raise InvalidSyntax(f"'schemas' must contain {PATCH_OP_SCHEMA}")
    operations = member(body, "Operations")
    if not isinstance(operations, list):
        raise InvalidSyntax("A PATCH body needs an 'Operations' array")
    if not operations:
        raise InvalidSyntax("'Operations' is empty")
    if len(operations) > max_operations:
        raise PayloadTooLarge(
            f"{len(operations)} operations in one PATCH; at most {max_operations} are accepted"
        )
    parsed = []
    for index, raw in enumerate(operations):
        try:
            parsed.append(_parse_operation(raw))
        except BadRequest as exc:
            raise located(exc, index) from exc
    return parsed


def _parse_operation(raw: Any) -> PatchOperation:
    if not isinstance(raw, dict):
        raise InvalidSyntax("An operation must be a JSON object")
    name = member(raw, "op")
    op = _OPS.get(name) if isinstance(name, str) else None
    if op is None:
        raise InvalidSyntax(f"Unknown op {name!r}: expected add, replace or remove")
    text = member(raw, "path")
    if text is MISSING or text is None:
        text = None
    elif not isinstance(text, str):
        raise InvalidPath("'path' must be a string")
    else:
        text = text.strip() or None
    value = member(raw, "value")
    has_value = value is not MISSING
    if text is None:
        if op == REMOVE:
            raise NoTarget("A remove operation needs a path (RFC 7644 §3.5.2.2)")
        if not isinstance(value, dict):
            raise InvalidValue(f"An {op} without a path needs an object as its value")
        return PatchOperation(op, None, value, True, None)
    if op != REMOVE and not has_value:
        raise InvalidValue(f"An {op} operation needs a value")
    return PatchOperation(op, parse_path(text), value if has_value else None, has_value, text)


# -- resolving paths ---------------------------------------------------------------


class _Resolver:
    """Path and key lookups for one resource type, memoized: IdPs send the
    same few paths over and over."""

    __slots__ = ("keys", "paths", "rows", "rt", "schemas")
    _LIMIT = 2048  # the memos are keyed by client text: bound them

    def __init__(self, rt: ResourceType) -> None:
        self.rt = rt
        self.schemas = {s.id.lower(): s for s in (rt.schema, *rt.extensions)}
        self.rows = "members" if rt.name == "Group" else None
        self.paths: dict[str, Target | Schema] = {}
        self.keys: dict[tuple[str, str], Target | Schema | None] = {}

    def path(self, pp: PatchPath, text: str | None) -> Target | Schema:
        if text is None:  # an operation built in code rather than parsed
            return self._path(pp, pp.path.text)
        found = self.paths.get(text)
        if found is None:
            found = self._path(pp, text)
            if len(self.paths) >= self._LIMIT:
                self.paths.clear()
            self.paths[text] = found
        return found

    def _path(self, pp: PatchPath, text: str) -> Target | Schema:
        ap = pp.path
        base = f"{ap.uri}:{ap.attr}" if ap.uri else ap.attr
        if ap.sub is None and pp.filter is None:
            schema = self.schemas.get(base.lower())
            if schema is not None:
                return schema
        try:
            resolved = resolve(self.rt, base if ap.sub is None else f"{base}.{ap.sub}")
        except KeyError:
            raise InvalidPath(f"Unknown attribute {text!r}") from None
        attr, sub = resolved.attribute, resolved.sub_attribute
        if pp.filter is not None:
            if not attr.multi_valued or attr.type != "complex":
                raise InvalidPath(f"{text!r}: a value filter needs a multi-valued attribute")
            if pp.sub_after_filter is not None:
                sub = attr.sub(pp.sub_after_filter)
                if sub is None:
                    raise InvalidPath(f"Unknown attribute {text!r}")
        flt = typed_filter(attr, pp.filter) if pp.filter is not None else None
        return self._target(resolved.schema, attr, sub, flt)

    def key(self, key: str, schema: Schema | None = None) -> Target | Schema | None:
        """A key of a path-less value object, or of an extension object in one
        when ``schema`` is given; None for keys to ignore."""
        memo = ("" if schema is None else schema.id, key)
        if memo in self.keys:
            return self.keys[memo]
        found = self._key(key, schema)
        if len(self.keys) >= self._LIMIT:
            self.keys.clear()
        self.keys[memo] = found
        return found

    def _key(self, key: str, schema: Schema | None) -> Target | Schema | None:
        lowered = key.lower()
        if schema is None:
            if lowered in _IGNORED_KEYS:
                return None
            found = self.schemas.get(lowered)
            if found is not None:
                return found
        if not _NAME.match(key):
            return None  # a path, not a name: compat rewrites the IdP forms of those
        try:
            resolved = resolve(self.rt, key if schema is None else f"{schema.id}:{key}")
        except KeyError:
            return None
        return self._target(resolved.schema, resolved.attribute, None, None)

    def _target(
        self, schema: Schema, attr: Attribute, sub: Attribute | None, flt: Expr | None
    ) -> Target:
        core = schema.id == self.rt.schema.id
        label = attr.name if core else f"{schema.id}:{attr.name}"
        rows = core and attr.name == self.rows
        eq = eq_term(attr, flt) if flt is not None else None
        return Target(None if core else schema.id, attr, sub, flt, label, rows, eq)


_RESOLVERS: dict[int, _Resolver] = {}


def _resolver(rt: ResourceType) -> _Resolver:
    # Keyed by identity: hashing a ResourceType walks its whole schema tree.
    found = _RESOLVERS.get(id(rt))
    if found is None or found.rt is not rt:
        found = _RESOLVERS[id(rt)] = _Resolver(rt)
    return found


# -- applying ----------------------------------------------------------------------


def apply_patch(
    doc: dict[str, Any], ops: Sequence[PatchOperation], rt: ResourceType
) -> PatchResult:
    """Apply ``ops`` in order to ``doc`` (RFC 7644 §3.5.2) and return the result.

    ``doc`` is never modified; the parts that change are copied. Group
    ``members`` must have been split off with ``split_member_operations``.
    Raises InvalidPath, NoTarget, InvalidValue or MutabilityViolation, the
    detail naming the operation and the attribute.
    """
    resolver = _resolver(rt)
    work = Work(doc)
    for index, op in enumerate(ops):
        try:
            if op.path is None:
                _apply_object(work, resolver, op.op, op.value)
            else:
                target = resolver.path(op.path, op.path_text)
                if isinstance(target, Schema):
                    _apply_schema(work, resolver, op.op, target, op.value)
                else:
                    apply_target(work, op.op, target, op.value, op.has_value, explicit=True)
        except BadRequest as exc:
            raise located(exc, index) from exc
    new = work.root
    if new is doc or new == doc:
        return PatchResult(doc, False)
    return PatchResult(new, True)


def _apply_object(work: Work, resolver: _Resolver, op: str, value: Any) -> None:
    if not isinstance(value, dict):
        raise InvalidValue(f"An {op} without a path needs an object as its value")
    for key, item in value.items():
        target = resolver.key(key) if isinstance(key, str) else None
        if target is None:
            continue
        if isinstance(target, Schema):
            _apply_schema(work, resolver, op, target, item)
        else:
            apply_target(work, op, target, item, True, explicit=False)


def _apply_schema(work: Work, resolver: _Resolver, op: str, schema: Schema, value: Any) -> None:
    """A whole schema as the target: ``{"urn:...:enterprise:2.0:User": {...}}``
    in a value object, or the URN as the path."""
    if op == REMOVE:
        if schema.id == resolver.rt.schema.id:
            raise InvalidPath("The core schema cannot be removed")
        for attr in schema.attributes:
            target = resolver.key(attr.name, schema)
            if isinstance(target, Target) and attr.mutability not in ("readOnly", "writeOnly"):
                apply_target(work, REMOVE, target, None, False, explicit=False)
        return
    if value is None:
        return
    if not isinstance(value, dict):
        raise InvalidValue(f"The value for '{schema.id}' must be an object")
    # The keys inside are read like those of a path-less value object, even
    # when the URN came as the path: unknown and read-only ones are ignored.
    for key, item in value.items():
        target = resolver.key(key, schema) if isinstance(key, str) else None
        if isinstance(target, Target):
            apply_target(work, op, target, item, True, explicit=False)
