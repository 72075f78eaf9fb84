"""One service object per SCIM resource type, so that no caller branches on the type.

The SCIM routes, Bulk and the compatibility layer look the object up (by
``ResourceType`` or by a Bulk path) and call one of its verbs, each one RFC
7644 operation with the same signature for Users and Groups: create (§3.3),
get (§3.4.1), list (§3.4.2), replace (§3.5.1), patch (§3.5.2), delete (§3.6).
What differs between the types lives behind the verbs, in ``users`` and
``groups``.

Two flags say what the caller will show of the resource it gets back:
``related`` is whether it needs the resource's related attribute (a user's
``groups``, a group's ``members``), which costs a query and, for a group, may
be large; ``body`` (PATCH only) is whether it needs the resource at all.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Protocol

from scimgate.model.patch import PatchOperation
from scimgate.model.schemas import GROUP, USER, ResourceType
from scimgate.service import groups, listing, users
from scimgate.service.listing import ListQuery, ListResult, Pager
from scimgate.service.resources import Resource
from scimgate.service.scope import TenantScope


class Create(Protocol):
    def __call__(
        self, scope: TenantScope, payload: dict[str, Any], /, *, related: bool = True
    ) -> Resource: ...


class Get(Protocol):
    def __call__(
        self, scope: TenantScope, resource_id: str, /, *, related: bool = True
    ) -> Resource: ...


class Replace(Protocol):
    def __call__(
        self,
        scope: TenantScope,
        resource_id: str,
        payload: dict[str, Any],
        /,
        *,
        if_match: str | None = None,
        related: bool = True,
    ) -> Resource: ...


class Patch(Protocol):
    def __call__(
        self,
        scope: TenantScope,
        resource_id: str,
        operations: list[PatchOperation],
        /,
        *,
        if_match: str | None = None,
        related: bool = True,
        body: bool = False,
    ) -> Resource | None:
        """The patched resource, or None when ``body`` is false and the type
        answers without it (a Group: RFC 7644 §3.5.2 allows 204)."""
        ...


class Lookup(Protocol):
    def __call__(self, scope: TenantScope, query: ListQuery, /) -> ListResult | None:
        """The list result when the query is a lookup one statement answers, else None."""
        ...


class AwaitGet(Protocol):
    def __call__(
        self, scope: TenantScope, resource_id: str, /, *, related: bool = True
    ) -> Awaitable[Resource | None]:
        """``get`` awaited on the event loop when one statement answers it; None otherwise."""
        ...


class AwaitLookup(Protocol):
    def __call__(self, scope: TenantScope, query: ListQuery) -> Awaitable[ListResult | None]:
        """``lookup`` awaited on the event loop (its parameters named as ``list``'s)."""
        ...


class Delete(Protocol):
    def __call__(
        self, scope: TenantScope, resource_id: str, /, *, if_match: str | None = None
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class ResourceService:
    """The verbs of one resource type."""

    rt: ResourceType
    related: str
    """The attribute the ``related`` flags stand for (``groups``, ``members``)."""
    page: Pager
    create: Create
    get: Get
    replace: Replace
    patch: Patch
    delete: Delete
    lookup: Lookup | None = None
    """The type's common lookup, answered without a unit of work (``Database.reads``)."""
    await_get: AwaitGet | None = None
    await_lookup: AwaitLookup | None = None
    """``get`` and ``lookup`` awaited on the event loop, for a database that serves such
    reads there (PostgreSQL, ``Database.awaited_reads``); a None answer goes to the verb."""

    def list(self, scope: TenantScope, query: ListQuery) -> ListResult:
        if self.lookup is not None:
            found = self.lookup(scope, query)
            if found is not None:
                return found
        return listing.list_resources(scope, self.page, query)


_USERS = ResourceService(
    rt=USER,
    related="groups",
    page=users.page_users,
    create=users.create_user,
    get=users.get_user,
    replace=users.replace_user,
    patch=users.patch_user,
    delete=users.delete_user,
    lookup=users.lookup_user_name,
    await_get=users.await_user,
    await_lookup=users.await_user_name,
)
_GROUPS = ResourceService(
    rt=GROUP,
    related="members",
    page=groups.page_groups,
    create=groups.create_group,
    get=groups.get_group,
    replace=groups.replace_group,
    patch=groups.patch_group,
    delete=groups.delete_group,
    await_get=groups.await_group,
)

SERVICES: tuple[ResourceService, ...] = (_USERS, _GROUPS)
"""Every resource type's service, in the order a root search lists them."""

_BY_NAME: dict[str, ResourceService] = {s.rt.name: s for s in SERVICES}
_BY_ENDPOINT: dict[str, ResourceService] = {s.rt.endpoint: s for s in SERVICES}
_BULK_PATH = re.compile(r"^(/[^/]+)(?:/([^/]+))?$")


def service_for(rt: ResourceType) -> ResourceService:
    return _BY_NAME[rt.name]


def bulk_target(path: str) -> tuple[ResourceService, str | None] | None:
    """The service and resource id a Bulk operation's path names (RFC 7644 §3.7):
    ``/Users`` or ``/Users/<id>``; None for any other path."""
    match = _BULK_PATH.match(path)
    if match is None:
        return None
    service = _BY_ENDPOINT.get(match.group(1))
    return None if service is None else (service, match.group(2))


def search_all(scope: TenantScope, query: ListQuery) -> ListResult:
    """A search at the tenant root (RFC 7644 §3.4.3) over every resource type."""
    return listing.search_all(scope, [s.page for s in SERVICES], query)
