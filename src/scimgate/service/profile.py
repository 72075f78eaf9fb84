"""A tenant's attribute mapping: SCIM attribute paths → the host app's profile fields.

A mapping value is a SCIM attribute path as a PATCH path takes it (RFC 7644
§3.5.2, ``attrPath`` and ``valuePath``): ``title``, ``name.givenName``,
``urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department``,
``emails[primary eq true].value``. What a path yields in the profile:

* a filtered path (``emails[type eq "work"].value``) yields the first match,
  since a profile field holds one value;
* an unfiltered path into a multi-valued attribute (``emails.value``) yields
  the list of values;
* anything else yields the value itself; every mapped field is present in the
  profile, ``None`` when the user has no value for it.

Mappings are parsed once (and cached by their content), not per user.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from scimgate.errors import BadRequest, InvalidPath, InvalidValue
from scimgate.model.filter import And, Compare, Expr, Not, Or, PatchPath, parse_path
from scimgate.model.keys import MISSING, member
from scimgate.model.matching import matches
from scimgate.model.schemas import GROUP_SCHEMA, USER, USER_SCHEMA, Attribute, resolve

_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}\Z")
_CORE_URNS = frozenset({USER_SCHEMA.lower(), GROUP_SCHEMA.lower()})
MAX_FIELDS = 100


# A lookup of one key in a JSON object, chosen when the mapping is compiled.
_Lookup = Callable[[Any, str], Any]
_Predicate = Callable[[dict[str, Any]], bool]


def _exact(obj: Any, name: str) -> Any:
    """Stored documents use the schemas' canonical names: a plain ``dict.get``."""
    return obj.get(name, MISSING) if isinstance(obj, dict) else MISSING


@dataclass(frozen=True, slots=True)
class _Field:
    """One profile field, with every name resolved to its canonical spelling in advance."""

    name: str
    container: str | None  # the extension URN holding the attribute; None for core
    attr: str
    sub: str | None  # the sub-attribute, after the filter when there is one
    predicate: _Predicate | None  # the value filter, when there is one
    lookup: _Lookup  # how to read attribute and sub-attribute names


@dataclass(frozen=True, slots=True)
class ProfileMapping:
    fields: tuple[_Field, ...]

    def apply(self, doc: dict[str, Any]) -> dict[str, Any]:
        """The profile of one user, from its stored SCIM document."""
        return {f.name: _resolve(doc, f) for f in self.fields}


def _canonical(path: PatchPath) -> tuple[str | None, Attribute | None]:
    """The path's top-level attribute and its schema, when the User schemas define it."""
    name = f"{path.path.uri}:{path.path.attr}" if path.path.uri else path.path.attr
    try:
        found = resolve(USER, name)
    except KeyError:  # a registered custom extension: no definition, names kept as written
        return path.path.uri, None
    container = None if found.schema.id.lower() in _CORE_URNS else found.schema.id
    return container, found.attribute


def _sub_name(attribute: Attribute | None, name: str | None) -> str | None:
    if name is None or attribute is None:
        return name
    sub = attribute.sub(name)
    return sub.name if sub is not None else name


def _predicate(expr: Expr, attribute: Attribute | None) -> _Predicate:
    """The filter as a function; ``sub eq literal`` (the usual shape) skips the evaluator."""
    sub = attribute.sub(expr.path.attr) if isinstance(expr, Compare) and attribute else None
    if (
        isinstance(expr, Compare)
        and expr.op == "eq"
        and expr.path.uri is None
        and expr.path.sub is None
        and sub is not None
    ):
        key, value = sub.name, expr.value
        if isinstance(value, bool):
            return lambda item: item.get(key) is value
        if isinstance(value, str) and sub.type == "string":
            if sub.case_exact:
                return lambda item: item.get(key) == value
            folded = value.lower()
            return lambda item: isinstance(v := item.get(key), str) and v.lower() == folded
    return lambda item: matches(expr, item, attribute)


def _compile_field(name: str, text: str) -> _Field:
    if not isinstance(name, str) or not _FIELD_NAME.match(name):
        raise InvalidValue(
            f"profile field name {name!r} must be 1-64 letters, digits or '_', "
            "not starting with a digit"
        )
    if not isinstance(text, str):
        raise InvalidValue(f"the path of profile field {name!r} must be a string")
    try:
        path = parse_path(text)
    except BadRequest as exc:  # InvalidPath, or InvalidFilter for a bad [filter]
        raise InvalidPath(f"profile field {name!r}: {exc.detail}") from None
    container, attribute = _canonical(path)
    predicate = None
    if path.filter is not None:
        try:
            _check_filter(path.filter, attribute)
        except BadRequest as exc:
            raise InvalidPath(f"profile field {name!r}: {exc.detail}") from None
        predicate = _predicate(path.filter, attribute)
    sub = path.sub_after_filter if path.filter is not None else path.path.sub
    return _Field(
        name=name,
        container=container,
        attr=attribute.name if attribute is not None else path.path.attr,
        sub=_sub_name(attribute, sub),
        predicate=predicate,
        lookup=_exact if attribute is not None else member,
    )


def _check_filter(expr: Expr, definition: Attribute | None) -> None:
    """Evaluate every comparison once on an empty item: type mismatches (``primary eq "x"``)
    raise now, when the mapping is saved, rather than silently yield nothing later."""
    if isinstance(expr, And | Or):
        _check_filter(expr.left, definition)
        _check_filter(expr.right, definition)
    elif isinstance(expr, Not):
        _check_filter(expr.expr, definition)
    elif isinstance(expr, Compare):
        matches(expr, {}, definition)


@functools.lru_cache(maxsize=256)
def _compile(pairs: tuple[tuple[str, str], ...]) -> ProfileMapping:
    return ProfileMapping(tuple(_compile_field(name, text) for name, text in pairs))


def compile_mapping(pairs: Iterable[tuple[str, str]]) -> ProfileMapping:
    """Parse a mapping; raises ``InvalidValue`` or ``InvalidPath`` on a bad name or path."""
    pairs = tuple(pairs)
    if len(pairs) > MAX_FIELDS:
        raise InvalidValue(f"an attribute mapping holds at most {MAX_FIELDS} fields")
    return _compile(pairs)


def check_mapping(raw: Any) -> dict[str, str]:
    """Validate a mapping as a client sent it (a JSON object of name → path)."""
    if not isinstance(raw, dict):
        raise InvalidValue("attribute_mapping must be an object of field name → SCIM path")
    compile_mapping(raw.items())
    return dict(raw)


def _resolve(doc: dict[str, Any], field: _Field) -> Any:
    lookup = field.lookup
    container: Any = doc if field.container is None else lookup(doc, field.container)
    head = lookup(container, field.attr)
    if head is MISSING or head is None:
        return None
    if field.predicate is not None:
        return _first_match(field, field.predicate, head)
    sub = field.sub
    if sub is None:
        return head
    if isinstance(head, list):
        found = [lookup(item, sub) for item in head]
        return [v for v in found if v is not MISSING and v is not None] or None
    value = lookup(head, sub)
    return None if value is MISSING else value


def _first_match(field: _Field, predicate: _Predicate, head: Any) -> Any:
    """A filtered path yields its first match, since a profile field holds one value."""
    items = head if isinstance(head, list) else [head]
    try:
        chosen = [i for i in items if isinstance(i, dict) and predicate(i)]
    except BadRequest:  # a stored mapping that no longer type-checks yields nothing
        return None
    sub = field.sub
    values = chosen if sub is None else [field.lookup(item, sub) for item in chosen]
    return next((v for v in values if v is not MISSING and v is not None), None)
