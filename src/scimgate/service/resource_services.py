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
from typing import Any, Protocol

from scimgate.model.patch import PatchOperation
from scimgate.model.schemas import GROUP, USER, ResourceType
from scimgate.service import groups, listing, users
from scimgate.service.listing import ListQuery, ListResult, Pager
from scimgate.service.resources import Resource
from scimgate.service.scope import TenantScope

_Operations = list[PatchOperation]  # named here: inside the classes, ``list`` is a verb


class ResourceService(Protocol):
    """The verbs of one resource type."""

    @property
    def rt(self) -> ResourceType: ...

    @property
    def related(self) -> str:
        """The attribute the ``related`` flags stand for (``groups``, ``members``)."""
        ...

    @property
    def page(self) -> Pager: ...

    def create(
        self, scope: TenantScope, payload: dict[str, Any], *, related: bool = True
    ) -> Resource: ...

    def get(self, scope: TenantScope, resource_id: str, *, related: bool = True) -> Resource: ...

    def list(self, scope: TenantScope, query: ListQuery) -> ListResult: ...

    def replace(
        self,
        scope: TenantScope,
        resource_id: str,
        payload: dict[str, Any],
        *,
        if_match: str | None = None,
        related: bool = True,
    ) -> Resource: ...

    def patch(
        self,
        scope: TenantScope,
        resource_id: str,
        operations: _Operations,
        *,
        if_match: str | None = None,
        related: bool = True,
        body: bool = True,
    ) -> Resource | None:
        """The patched resource, or None when ``body`` is false and the type
        answers without it (a Group: RFC 7644 §3.5.2 allows 204)."""
        ...

    def delete(
        self, scope: TenantScope, resource_id: str, *, if_match: str | None = None
    ) -> None: ...


class _Users:
    rt = USER
    related = "groups"
    page: Pager = staticmethod(users.page_users)

    def create(
        self, scope: TenantScope, payload: dict[str, Any], *, related: bool = True
    ) -> Resource:
        return users.create_user(scope, payload, groups=related)

    def get(self, scope: TenantScope, resource_id: str, *, related: bool = True) -> Resource:
        return users.get_user(scope, resource_id, groups=related)

    def list(self, scope: TenantScope, query: ListQuery) -> ListResult:
        return listing.list_resources(scope, self.page, query)

    def replace(
        self,
        scope: TenantScope,
        resource_id: str,
        payload: dict[str, Any],
        *,
        if_match: str | None = None,
        related: bool = True,
    ) -> Resource:
        return users.replace_user(scope, resource_id, payload, if_match=if_match, groups=related)

    def patch(
        self,
        scope: TenantScope,
        resource_id: str,
        operations: _Operations,
        *,
        if_match: str | None = None,
        related: bool = True,
        body: bool = True,
    ) -> Resource | None:
        # A user is small: it always comes back, with 200, as clients expect.
        return users.patch_user(scope, resource_id, operations, if_match=if_match, groups=related)

    def delete(self, scope: TenantScope, resource_id: str, *, if_match: str | None = None) -> None:
        users.delete_user(scope, resource_id, if_match=if_match)


class _Groups:
    rt = GROUP
    related = "members"
    page: Pager = staticmethod(groups.page_groups)

    def create(
        self, scope: TenantScope, payload: dict[str, Any], *, related: bool = True
    ) -> Resource:
        return groups.create_group(scope, payload, members=related)

    def get(self, scope: TenantScope, resource_id: str, *, related: bool = True) -> Resource:
        return groups.get_group(scope, resource_id, members=related)

    def list(self, scope: TenantScope, query: ListQuery) -> ListResult:
        return listing.list_resources(scope, self.page, query)

    def replace(
        self,
        scope: TenantScope,
        resource_id: str,
        payload: dict[str, Any],
        *,
        if_match: str | None = None,
        related: bool = True,
    ) -> Resource:
        return groups.replace_group(scope, resource_id, payload, if_match=if_match, members=related)

    def patch(
        self,
        scope: TenantScope,
        resource_id: str,
        operations: _Operations,
        *,
        if_match: str | None = None,
        related: bool = True,
        body: bool = True,
    ) -> Resource | None:
        return groups.patch_group(
            scope, resource_id, operations, if_match=if_match, want_body=body, members=related
        )

    def delete(self, scope: TenantScope, resource_id: str, *, if_match: str | None = None) -> None:
        groups.delete_group(scope, resource_id, if_match=if_match)


SERVICES: tuple[ResourceService, ...] = (_Users(), _Groups())
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
