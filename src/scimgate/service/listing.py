"""Query resources: list with filter, sort and paging (RFC 7644 §3.4.2), and .search (§3.4.3)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scimgate.errors import InvalidFilter, InvalidValue
from scimgate.model.filter import Expr, parse_filter
from scimgate.model.projection import project, wants
from scimgate.model.schemas import GROUP, USER, ResourceType
from scimgate.service.resources import render_group, render_user
from scimgate.service.scope import TenantScope
from scimgate.storage.repository import TenantRepository
from scimgate.storage.rows import Page


@dataclass(frozen=True, slots=True)
class ListQuery:
    filter: str | None = None
    sort_by: str | None = None
    sort_order: str | None = None
    start_index: int = 1
    count: int | None = None
    attributes: list[str] | None = None
    excluded: list[str] | None = None


@dataclass(frozen=True, slots=True)
class ListResult:
    total: int
    start_index: int
    resources: list[dict[str, Any]]


def _descending(sort_order: str | None) -> bool:
    if sort_order is None:
        return False
    order = sort_order.strip().lower()
    if order not in ("ascending", "descending"):
        raise InvalidValue("sortOrder must be 'ascending' or 'descending'")
    return order == "descending"


def _window(scope: TenantScope, query: ListQuery) -> tuple[int, int]:
    """(offset, limit) from startIndex and count (RFC 7644 §3.4.2.4).

    startIndex is a 1-based item position (values below 1 mean 1); count is
    capped by maxResults and a negative count means 0.
    """
    start = max(query.start_index, 1)
    count = scope.limits.default_page_size if query.count is None else query.count
    return start - 1, min(max(count, 0), scope.limits.max_results)


def _parse(scope: TenantScope, text: str | None) -> Expr | None:
    if text is None:
        return None
    return parse_filter(text, max_length=scope.limits.max_filter_length)


def _page(
    repo: TenantRepository,
    scope: TenantScope,
    rt: ResourceType,
    expr: Expr | None,
    query: ListQuery,
    offset: int,
    limit: int,
) -> tuple[Page, Callable[[Page], list[dict[str, Any]]]]:
    descending = _descending(query.sort_order)
    if rt is USER:
        page = repo.users.page(expr, query.sort_by, descending, offset, limit)

        def render(page: Page) -> list[dict[str, Any]]:
            ids = [row.id for row in page.rows]
            groups = (
                repo.users.groups_of(ids)
                if wants(USER, query.attributes, query.excluded, "groups")
                else {}
            )
            return [
                project(
                    render_user(row, scope.base_url, groups.get(row.id)).body,
                    USER,
                    query.attributes,
                    query.excluded,
                )
                for row in page.rows
            ]

        return page, render
    page = repo.groups.page(expr, query.sort_by, descending, offset, limit)

    def render_groups(page: Page) -> list[dict[str, Any]]:
        ids = [row.id for row in page.rows]
        members = (
            repo.groups.members_of(ids)
            if wants(GROUP, query.attributes, query.excluded, "members")
            else {}
        )
        return [
            project(
                render_group(row, scope.base_url, members.get(row.id)).body,
                GROUP,
                query.attributes,
                query.excluded,
            )
            for row in page.rows
        ]

    return page, render_groups


def list_resources(scope: TenantScope, rt: ResourceType, query: ListQuery) -> ListResult:
    expr = _parse(scope, query.filter)
    offset, limit = _window(scope, query)
    with scope.db.tenant(scope.tenant.id) as repo:
        page, render = _page(repo, scope, rt, expr, query, offset, limit)
        return ListResult(total=page.total, start_index=offset + 1, resources=render(page))


def search_all(scope: TenantScope, query: ListQuery) -> ListResult:
    """A search at the tenant root (RFC 7644 §3.4.3): Users, then Groups, paged as one list.

    A filter naming an attribute one resource type lacks simply matches none
    of that type.
    """
    offset, limit = _window(scope, query)
    expr = _parse(scope, query.filter)
    total = 0
    resources: list[dict[str, Any]] = []
    refused: list[InvalidFilter] = []
    with scope.db.tenant(scope.tenant.id) as repo:
        for rt in (USER, GROUP):
            try:
                counted, _ = _page(repo, scope, rt, expr, query, 0, 0)
            except InvalidFilter as exc:
                refused.append(exc)
                continue
            # This resource type's share of the requested window.
            local_offset = max(offset - total, 0)
            local_limit = min(limit - len(resources), counted.total - local_offset)
            if local_limit > 0:
                page, render = _page(repo, scope, rt, expr, query, local_offset, local_limit)
                resources.extend(render(page))
            total += counted.total
    if len(refused) == 2:
        raise refused[0]
    return ListResult(total=total, start_index=offset + 1, resources=resources)
