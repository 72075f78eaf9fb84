"""``attributes`` and ``excludedAttributes`` (RFC 7644 §3.4.2.5, §3.9).

``project`` trims a fully rendered resource (with ``schemas``, ``id`` and
``meta``) to what the client asked for; ``wants`` answers the same question
for one attribute before anything is loaded, so a caller can skip reading a
large group's members when the response will not show them.

Names are resolved case-insensitively through the resource type, with or
without their schema URN; a bare extension URN stands for the whole
extension object. Names that resolve to nothing are ignored, as clients send
attribute lists written for other servers.
"""

from __future__ import annotations

from typing import Any

from scimgate.model.schemas import COMMON_ATTRIBUTES, ResourceType, resolve

# container -> attribute -> sub-attribute names (None: the whole attribute).
# The container is "" for the core schema and the URN for an extension; a
# container mapped to None is a whole extension object.
_Selection = dict[str, dict[str, set[str] | None] | None]


class _Shape:
    """The ``returned`` characteristics of one resource type, by canonical name."""

    __slots__ = ("always", "hidden")

    def __init__(self, rt: ResourceType) -> None:
        attrs = rt.schema.attributes + COMMON_ATTRIBUTES
        # "schemas" is no attribute, but a resource is unreadable without it.
        self.always = frozenset({"schemas"} | {a.name for a in attrs if a.returned == "always"})
        hidden: dict[str, frozenset[str]] = {}
        for container, schema_attrs in (
            ("", attrs),
            *((s.id, s.attributes) for s in rt.extensions),
        ):
            names = frozenset(a.name for a in schema_attrs if a.returned in ("never", "request"))
            if names:
                hidden[container] = names
        self.hidden = hidden


_SHAPES: dict[int, tuple[ResourceType, _Shape]] = {}
_MAX_SHAPES = 256


def _shape_for(rt: ResourceType) -> _Shape:
    entry = _SHAPES.get(id(rt))
    if entry is None or entry[0] is not rt:
        if len(_SHAPES) >= _MAX_SHAPES:  # resource types built on the fly must not pile up
            _SHAPES.clear()
        entry = (rt, _Shape(rt))
        _SHAPES[id(rt)] = entry
    return entry[1]


def parse_attribute_list(value: str | None) -> list[str] | None:
    """Split the comma-separated ``attributes``/``excludedAttributes`` parameter.

    Blank entries are dropped; None or a blank parameter gives None. Commas
    inside ``[...]`` do not split, for clients that put filters there.
    """
    if not value:
        return None
    if "[" not in value:
        parts = value.split(",")
    else:
        parts = []
        depth = start = 0
        for i, char in enumerate(value):
            if char == "[":
                depth += 1
            elif char == "]":
                depth = max(depth - 1, 0)
            elif char == "," and depth == 0:
                parts.append(value[start:i])
                start = i + 1
        parts.append(value[start:])
    names = [part.strip() for part in parts if part.strip()]
    return names or None


def _without_filter(name: str) -> str:
    """``emails[type eq "work"].value`` -> ``emails.value``.

    RFC 7644 has no filters in these parameters, but Microsoft's test
    collection sends them; showing the whole attribute beats dropping it.
    """
    start = name.find("[")
    if start < 0:
        return name
    end = name.rfind("]")
    return name[:start] + (name[end + 1 :] if end > start else "")


def _select(rt: ResourceType, names: list[str]) -> _Selection:
    selection: _Selection = {}
    for raw in names:
        name = _without_filter(raw.strip())
        extension = rt.extension(name)
        if extension is not None:
            selection[extension.id] = None
            continue
        try:
            resolved = resolve(rt, name)
        except KeyError:
            continue
        if resolved.attribute.returned == "never":
            continue
        container = "" if resolved.schema is rt.schema else resolved.schema.id
        attrs = selection.get(container, {})
        if attrs is None:
            continue
        selection[container] = attrs
        attr = resolved.attribute.name
        if resolved.sub_attribute is None:
            attrs[attr] = None
        elif attr not in attrs:
            attrs[attr] = {resolved.sub_attribute.name}
        else:
            subs = attrs[attr]
            if subs is not None:
                subs.add(resolved.sub_attribute.name)
    return selection


def _pick(value: Any, subs: set[str]) -> Any:
    """Only the ``subs`` of a complex value (or of each item of a multi-valued one)."""
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k in subs} or None
    if isinstance(value, list):
        items = [
            picked
            for item in value
            if isinstance(item, dict) and (picked := {k: v for k, v in item.items() if k in subs})
        ]
        return items or None
    return None


def _drop(value: Any, subs: set[str]) -> Any:
    """A complex value (or each item of a multi-valued one) without ``subs``."""
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k not in subs} or None
    if isinstance(value, list):
        items = [
            {k: v for k, v in item.items() if k not in subs} if isinstance(item, dict) else item
            for item in value
        ]
        return [item for item in items if item] or None
    return value


def _include(resource: dict[str, Any], shape: _Shape, selection: _Selection) -> dict[str, Any]:
    core = selection.get("") or {}
    out: dict[str, Any] = {}
    for key, value in resource.items():
        if key in shape.always:
            out[key] = value
        elif key in core:
            subs = core[key]
            picked = value if subs is None else _pick(value, subs)
            if picked is not None:
                out[key] = picked
        elif key in selection and isinstance(value, dict):
            attrs = selection[key]
            if attrs is None:
                hidden = shape.hidden.get(key, frozenset())
                picked = {k: v for k, v in value.items() if k not in hidden}
            else:
                picked = {}
                for name, subs in attrs.items():
                    if name in value:
                        sub_value = value[name] if subs is None else _pick(value[name], subs)
                        if sub_value is not None:
                            picked[name] = sub_value
            if picked:
                out[key] = picked
    return out


def _hide(resource: dict[str, Any], shape: _Shape) -> dict[str, Any]:
    """Remove what is ``returned`` never or only on request."""
    out = resource
    for container, names in shape.hidden.items():
        target = out if not container else out.get(container)
        if not isinstance(target, dict) or not any(name in target for name in names):
            continue
        if out is resource:
            out = dict(resource)
        if container:
            out[container] = {k: v for k, v in target.items() if k not in names}
        else:
            for name in names:
                out.pop(name, None)
    return out


def _exclude(resource: dict[str, Any], shape: _Shape, selection: _Selection) -> dict[str, Any]:
    out = dict(resource)
    for container, attrs in selection.items():
        if container:
            if container not in out:
                continue
            if attrs is None:
                del out[container]
                continue
            if not isinstance(out[container], dict):
                continue
            target = dict(out[container])
        else:
            target = out
        for name, subs in (attrs or {}).items():
            if name not in target or (not container and name in shape.always):
                continue
            remaining = None if subs is None else _drop(target[name], subs)
            if remaining is None:
                del target[name]
            else:
                target[name] = remaining
        if container:
            if target:
                out[container] = target
            else:
                del out[container]
    return out


def project(
    resource: dict[str, Any],
    rt: ResourceType,
    attributes: list[str] | None,
    excluded: list[str] | None,
) -> dict[str, Any]:
    """``resource`` as RFC 7644 §3.4.2.5 says to return it.

    ``schemas`` and ``returned: always`` attributes (``id``) are always kept;
    ``returned: never`` ones (``password``) never shown. With ``attributes``
    only the named attributes or sub-attributes are kept; ``excluded`` then
    removes its names. ``resource`` itself is never modified.
    """
    shape = _shape_for(rt)
    out = (
        _include(resource, shape, _select(rt, attributes)) if attributes else _hide(resource, shape)
    )
    if excluded:
        out = _exclude(out, shape, _select(rt, excluded))
    return out


def wants(
    rt: ResourceType,
    attributes: list[str] | None,
    excluded: list[str] | None,
    name: str,
) -> bool:
    """Whether the top-level attribute ``name`` will appear in the projected resource.

    True as soon as any part of it will (``attributes=members.value``).
    ``name`` is a schema attribute of ``rt`` (KeyError otherwise).
    """
    resolved = resolve(rt, name)
    attr = resolved.attribute
    if attr.returned == "always":
        return True
    if attr.returned == "never":
        return False
    container = "" if resolved.schema is rt.schema else resolved.schema.id
    if attributes:
        selection = _select(rt, attributes)
        if container not in selection:
            return False
        attrs = selection[container]
        if attrs is not None and attr.name not in attrs:
            return False
    elif attr.returned == "request":
        return False
    if excluded:
        selection = _select(rt, excluded)
        if container in selection:
            attrs = selection[container]
            if attrs is None or (attr.name in attrs and attrs[attr.name] is None):
                return False
    return True
