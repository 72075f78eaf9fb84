"""Key rewrites: resource bodies whose keys are not plain RFC 7643 attribute names.

Each rewrite takes a resource-shaped object (a POST or PUT body, or the value
object of a path-less PATCH operation, which RFC 7644 §3.5.2 reads like one)
and rewrites its keys in place into the RFC shape: core attributes at the top
level, extension attributes inside an object under the extension's URN,
sub-attributes inside their complex attribute. Keys a rewrite does not
recognise are left alone; the model ignores unknown attributes.

The per-operation rewrites at the end take one PATCH operation.
"""

from __future__ import annotations

from typing import Any

from scimgate.errors import BadRequest
from scimgate.model.filter import parse_path
from scimgate.model.keys import key_of
from scimgate.model.schemas import ENTERPRISE_USER_SCHEMA
from scimgate.scim.compat.shape import Shape, set_key

_CORE = ""  # stands for the resource type's own core schema URN
# OneLogin's templates use SCIM 1.1-style names for the 2.0 schemas. Longer
# names first: "urn:scim:schemas:core:2.0:User" is the schema, not an
# attribute "User" of "urn:scim:schemas:core:2.0".
_LEGACY = (
    ("urn:scim:schemas:extension:enterprise:2.0:user", ENTERPRISE_USER_SCHEMA),
    ("urn:scim:schemas:extension:enterprise:2.0", ENTERPRISE_USER_SCHEMA),
    ("urn:scim:schemas:core:2.0:user", _CORE),
    ("urn:scim:schemas:core:2.0:group", _CORE),
    ("urn:scim:schemas:core:2.0", _CORE),
)
_LEGACY_PREFIX = "urn:scim:schemas:"


def modern_urn(text: str, shape: Shape) -> str:
    """``text`` (a key or a path) with a legacy schema URN prefix replaced."""
    lowered = text.lower()
    if not lowered.startswith(_LEGACY_PREFIX):
        return text
    for legacy, modern in _LEGACY:
        if lowered == legacy or lowered.startswith(legacy + ":"):
            return (modern or shape.core_urn) + text[len(legacy) :]
    return text


def rename_legacy_urns(obj: dict[Any, Any], shape: Shape) -> None:
    """OneLogin: ``urn:scim:schemas:core:2.0`` and
    ``urn:scim:schemas:extension:enterprise:2.0`` in keys. (In ``schemas``
    they need nothing: the model does not read ``schemas``.)"""
    if not any(isinstance(k, str) and k[:17].lower() == _LEGACY_PREFIX for k in obj):
        return
    renamed = {(modern_urn(k, shape) if isinstance(k, str) else k): v for k, v in obj.items()}
    obj.clear()
    obj.update(renamed)


def unwrap_core_urn(obj: dict[Any, Any], shape: Shape) -> None:
    """Core attributes nested in an object under the core schema URN are
    lifted to the top level; the nested values win over top-level ones."""
    key = key_of(obj, shape.core_urn)
    if key is None or not isinstance(obj[key], dict):
        return
    inner = obj.pop(key)
    for name, value in inner.items():
        if isinstance(name, str):
            set_key(obj, name, value)


def nest_urn_prefixed_keys(obj: dict[Any, Any], shape: Shape) -> None:
    """``urn:...:enterprise:2.0:User:employeeNumber`` (Entra ID's custom and
    extension attributes, its path-less PATCH values) moves into the object
    under its extension URN; a core-URN prefix is dropped. Keys of URNs that
    are neither known nor registered stay, and the model ignores them."""
    moves = []
    for key in obj:
        if not isinstance(key, str) or key[:4].lower() != "urn:":
            continue
        if key.lower() in shape.urns:
            continue  # a schema's own object
        urn, _, name = key.rpartition(":")
        canonical = shape.urns.get(urn.lower())
        if canonical is not None and name:
            moves.append((key, canonical, name))
    for key, canonical, name in moves:
        value = obj.pop(key)
        if canonical == shape.core_urn:
            set_key(obj, name, value)
            continue
        holder_key = key_of(obj, canonical) or canonical
        holder = obj.get(holder_key)
        holder = dict(holder) if isinstance(holder, dict) else {}
        _put_path(holder, name, value)
        obj[holder_key] = holder


def nest_dotted_keys(obj: dict[Any, Any], shape: Shape) -> None:
    """``name.givenName`` (Entra ID's path-less PATCH values) moves into its
    complex attribute. Only single-valued complex attributes: for a
    multi-valued one (``emails.value``) the key names no item."""
    moves = []
    for key in obj:
        if not isinstance(key, str) or "." not in key or key[:4].lower() == "urn:":
            continue
        head, _, rest = key.partition(".")
        attr = shape.core.attribute(head)
        if attr is not None and attr.type == "complex" and not attr.multi_valued and rest:
            moves.append((key, attr.name, rest))
    for key, name, rest in moves:
        value = obj.pop(key)
        parent_key = key_of(obj, name) or name
        parent = obj.get(parent_key)
        parent = dict(parent) if isinstance(parent, dict) else {}
        _put_path(parent, rest, value)
        obj[parent_key] = parent


def _put_path(target: dict[Any, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    for name in parents:
        child_key = key_of(target, name) or name
        child = target.get(child_key)
        child = dict(child) if isinstance(child, dict) else {}
        target[child_key] = child
        target = child
    set_key(target, leaf, value)


# -- per operation --------------------------------------------------------------------


def lower_case_op(op: dict[Any, Any], shape: Shape) -> list[dict[Any, Any]] | None:
    """``"Replace"``, ``"Add"``, ``"Remove"`` (Entra ID) become the RFC's names."""
    key = key_of(op, "op")
    if key is not None and isinstance(op[key], str):
        op[key] = op[key].lower()
    return None


def rename_legacy_urn_in_path(op: dict[Any, Any], shape: Shape) -> list[dict[Any, Any]] | None:
    """OneLogin's ``urn:scim:schemas:extension:enterprise:2.0:...`` in a path."""
    key = key_of(op, "path")
    if key is not None and isinstance(op[key], str):
        op[key] = modern_urn(op[key], shape)
    return None


def split_filtered_keys(op: dict[Any, Any], shape: Shape) -> list[dict[Any, Any]] | None:
    """A path-less value object whose key is itself a filtered path
    (``{"emails[type eq \\"work\\"].value": "x"}``) becomes an operation with
    that path, after the rest of the object."""
    path_key = key_of(op, "path")
    value_key = key_of(op, "value")
    if (path_key is not None and op[path_key]) or value_key is None:
        return None
    value = op[value_key]
    if not isinstance(value, dict):
        return None
    filtered = [k for k in value if isinstance(k, str) and "[" in k and _is_path(k)]
    if not filtered:
        return None
    op_name = op.get(key_of(op, "op") or "op")
    rest = {k: v for k, v in value.items() if k not in filtered}
    split = [{"op": op_name, "path": k, "value": value[k]} for k in filtered]
    if not rest:
        return split
    return [{**op, value_key: rest}, *split]


def _is_path(text: str) -> bool:
    # An unreadable key is left in the object, where it is ignored like any
    # unknown key, rather than becoming an invalid path that fails the request.
    try:
        parse_path(text)
    except BadRequest:
        return False
    return True
