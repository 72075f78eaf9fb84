"""Query resources: list with filter, sort and paging (RFC 7644 §3.4.2), and .search (§3.4.3)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scimgate.errors import InvalidFilter, InvalidValue
from scimgate.model.filter import Expr, parse_filter
from scimgate.model.projection import project, wants
from scimgate.model.schemas import ResourceType
from scimgate.service.resources import Resource
from scimgate.service.scope import TenantScope
from scimgate.storage.repository import TenantRepository
from scimgate.storage.rows import MemberRef, Page


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


def window(scope: TenantScope, query: ListQuery) -> tuple[int, int]:
    """(offset, limit) from startIndex and count (RFC 7644 §3.4.2.4).

    startIndex is a 1-based item position (values below 1 mean 1); count is
    capped by maxResults and a negative count means 0.
    """
    start = max(query.start_index, 1)
    count = scope.limits.default_page_size if query.count is None else query.count
    return start - 1, min(max(count, 0), scope.limits.max_results)


def parse(scope: TenantScope, text: str | None) -> Expr | None:
    if text is None:
        return None
    return parse_filter(text, max_length=scope.limits.max_filter_length)


Pager = Callable[
    [TenantRepository, TenantScope, Expr | None, ListQuery, bool, int, int],
    tuple[Page, Callable[[Page], list[dict[str, Any]]]],
]
"""How a resource type is paged: ``(repo, scope, filter, query, descending, offset, limit)``
gives the page and a renderer for its rows. Users and Groups each build one with ``pager``."""


def pager(
    rt: ResourceType,
    related: str,
    rows: Callable[[TenantRepository], Callable[[Expr | None, str | None, bool, int, int], Page]],
    related_of: Callable[[TenantRepository, list[str]], Mapping[str, list[MemberRef]]],
    render: Callable[[Any, str, list[MemberRef] | None], Resource],
) -> Pager:
    """The ``Pager`` of resource type ``rt``: its rows come from ``rows`` (a store's
    ``page``), and its ``related`` attribute (read by ``related_of``, for a whole
    page at once) only when the query asks for it."""

    def page_of(
        repo: TenantRepository,
        scope: TenantScope,
        expr: Expr | None,
        query: ListQuery,
        descending: bool,
        offset: int,
        limit: int,
    ) -> tuple[Page, Callable[[Page], list[dict[str, Any]]]]:
        page = rows(repo)(expr, query.sort_by, descending, offset, limit)

        def render_page(page: Page) -> list[dict[str, Any]]:
            ids = [row.id for row in page.rows]
            listed = (
                related_of(repo, ids)
                if wants(rt, query.attributes, query.excluded, related)
                else {}
            )
            return [
                project(
                    render(row, scope.base_url, listed.get(row.id)).body,
                    rt,
                    query.attributes,
                    query.excluded,
                )
                for row in page.rows
            ]

        return page, render_page

    return page_of


def list_resources(scope: TenantScope, pager: Pager, query: ListQuery) -> ListResult:
    expr = parse(scope, query.filter)
    offset, limit = window(scope, query)
    descending = _descending(query.sort_order)
    with scope.db.tenant(scope.tenant.id) as repo:
        page, render = pager(repo, scope, expr, query, descending, offset, limit)
        return ListResult(total=page.total, start_index=offset + 1, resources=render(page))


def search_all(scope: TenantScope, pagers: Sequence[Pager], query: ListQuery) -> ListResult:
    """A search at the tenant root (RFC 7644 §3.4.3) over ``pagers`` (Users, then Groups),
    paged as one list.

    A filter naming an attribute one resource type lacks simply matches none
    of that type.
    """
    offset, limit = window(scope, query)
    expr = parse(scope, query.filter)
    descending = _descending(query.sort_order)
    total = 0
    resources: list[dict[str, Any]] = []
    refused: list[InvalidFilter] = []
    with scope.db.tenant(scope.tenant.id) as repo:
        for pager in pagers:
            try:
                counted, _ = pager(repo, scope, expr, query, descending, 0, 0)
            except InvalidFilter as exc:
                refused.append(exc)
                continue
            # This resource type's share of the requested window.
            local_offset = max(offset - total, 0)
            local_limit = min(limit - len(resources), counted.total - local_offset)
            if local_limit > 0:
                page, render = pager(
                    repo, scope, expr, query, descending, local_offset, local_limit
                )
                resources.extend(render(page))
            total += counted.total
    if refused and len(refused) == len(pagers):
        raise refused[0]
    return ListResult(total=total, start_index=offset + 1, resources=resources)
