"""The IdP compatibility layer: named tolerances applied at the edge of the SCIM layer.

``normalize_resource_body``, ``normalize_patch_body`` and
``normalize_bulk_body`` turn what identity providers really send into the
RFC 7643/7644 shapes the model validates; ``TOLERANCES`` lists every
tolerance, with the IdPs that need it and where it is documented.
"""

from scimgate.scim.compat.bodies import (
    normalize_bulk_body,
    normalize_patch_body,
    normalize_resource_body,
)
from scimgate.scim.compat.registry import BY_NAME, TOLERANCES, Tolerance

__all__ = [
    "BY_NAME",
    "TOLERANCES",
    "Tolerance",
    "normalize_bulk_body",
    "normalize_patch_body",
    "normalize_resource_body",
]
