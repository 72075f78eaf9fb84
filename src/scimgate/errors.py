"""The exception tree.

Every failure scimgate reports to a client is one of these classes. Each class
carries its HTTP ``status`` and, where RFC 7644 §3.12 defines one, its SCIM
``scim_type``. The HTTP layers turn them into responses in one place
(``scimgate.scim.handlers`` for SCIM, the CLI for the command line).

::

    ScimgateError                      status 500 (never raised directly)
    ├── BadRequest                     400
    │   ├── InvalidSyntax              400 invalidSyntax
    │   ├── InvalidFilter              400 invalidFilter
    │   ├── InvalidPath                400 invalidPath
    │   ├── NoTarget                   400 noTarget
    │   ├── InvalidValue               400 invalidValue
    │   ├── MutabilityViolation        400 mutability
    │   ├── TooMany                    400 tooMany
    │   ├── InvalidVersion             400 invalidVers
    │   └── InvalidGrant               400 (an SSO code unknown, used or expired)
    ├── Unauthorized                   401
    ├── Forbidden                      403
    │   └── SsoRejected                403 (carries ``check``: which SSO check failed)
    ├── NotFound                       404
    ├── MethodNotAllowed               405
    ├── Conflict                       409
    │   └── Uniqueness                 409 uniqueness
    ├── RequestTimeout                 408 (the body did not arrive in time)
    ├── PreconditionFailed             412
    ├── PayloadTooLarge                413
    ├── RateLimited                    429 (carries retry_after seconds)
    └── NotImplementedByServer         501
"""

from __future__ import annotations


class ScimgateError(Exception):
    """Base class: an error with an HTTP status and an optional SCIM type."""

    status: int = 500
    scim_type: str | None = None
    default_detail: str = "Internal error"

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail or self.default_detail
        super().__init__(self.detail)


class BadRequest(ScimgateError):
    status = 400
    default_detail = "Bad request"


class InvalidSyntax(BadRequest):
    scim_type = "invalidSyntax"
    default_detail = "The request body could not be parsed"


class InvalidFilter(BadRequest):
    scim_type = "invalidFilter"
    default_detail = "The filter is invalid"


class InvalidPath(BadRequest):
    scim_type = "invalidPath"
    default_detail = "The path is invalid"


class NoTarget(BadRequest):
    scim_type = "noTarget"
    default_detail = "The path matched no attribute"


class InvalidValue(BadRequest):
    scim_type = "invalidValue"
    default_detail = "A value is missing or invalid"


class MutabilityViolation(BadRequest):
    scim_type = "mutability"
    default_detail = "The attribute cannot be modified"


class TooMany(BadRequest):
    scim_type = "tooMany"
    default_detail = "Too many results"


class InvalidVersion(BadRequest):
    scim_type = "invalidVers"
    default_detail = "The version is invalid"


class InvalidGrant(BadRequest):
    """A one-time sign-in code that is unknown, already exchanged or expired (RFC 6749 §5.2)."""

    default_detail = "The code is unknown, already used or expired"


class Unauthorized(ScimgateError):
    status = 401
    default_detail = "Authentication required"


class Forbidden(ScimgateError):
    status = 403
    default_detail = "Forbidden"


class SsoRejected(Forbidden):
    """A single sign-on refused. ``check`` is a stable code ("audience", "replay",
    "disabled_user", ...); ``detail`` says in plain words what was wrong."""

    default_detail = "The sign-in was refused"

    def __init__(self, check: str, detail: str) -> None:
        self.check = check
        # Set once the refusal has its audit row, so an outer handler does not write another.
        self.recorded = False
        super().__init__(detail)


class NotFound(ScimgateError):
    status = 404
    default_detail = "Resource not found"


class MethodNotAllowed(ScimgateError):
    status = 405
    default_detail = "Method not allowed"


class Conflict(ScimgateError):
    status = 409
    default_detail = "Conflict"


class Uniqueness(Conflict):
    scim_type = "uniqueness"
    default_detail = "A resource with this value already exists"


class RequestTimeout(ScimgateError):
    status = 408
    default_detail = "The request body did not arrive in time"


class PreconditionFailed(ScimgateError):
    status = 412
    default_detail = "The resource has changed (If-Match does not match)"


class PayloadTooLarge(ScimgateError):
    status = 413
    default_detail = "The request is too large"


class RateLimited(ScimgateError):
    status = 429
    default_detail = "Too many requests"

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(detail)


class NotImplementedByServer(ScimgateError):
    status = 501
    default_detail = "Not implemented"
