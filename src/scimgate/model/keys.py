"""Member names matched in any letter case.

Attribute names are case-insensitive (RFC 7643 §2.1), and IdPs do send
``Operations`` as ``operations`` or ``userName`` as ``username``. The exact
spelling is tried first: it is what nearly every request uses, and a dict
lookup is cheaper than a scan of the keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

MISSING: Final[Any] = object()
"""What ``member`` returns for an absent name, unless told otherwise (``None`` may be a value)."""


def key_of(obj: Mapping[Any, Any], name: str) -> Any:
    """The key of ``obj`` spelled like ``name`` in any letter case, or None."""
    if name in obj:
        return name
    lowered = name.lower()
    for key in obj:
        if isinstance(key, str) and key.lower() == lowered:
            return key
    return None


def member(obj: Any, name: str, default: Any = MISSING) -> Any:
    """``obj[name]`` with the key matched in any letter case.

    ``default`` when ``obj`` is not a JSON object or holds no such member.
    """
    if not isinstance(obj, dict):
        return default
    found = obj.get(name, MISSING)
    if found is not MISSING:
        return found
    lowered = name.lower()
    for key, value in obj.items():
        if isinstance(key, str) and key.lower() == lowered:
            return value
    return default
