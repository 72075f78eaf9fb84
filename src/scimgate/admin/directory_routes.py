"""Console pages for a tenant's role mapping, users and groups.

Users and groups page with the host API's keyset cursors (ordered by id, or
by name when searching), so a page costs the same at 100 or 100,000 users.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from scimgate.admin import security
from scimgate.admin.routes import Handler, database_of, render, signed_in, tenant_for
from scimgate.errors import InvalidValue
from scimgate.model.idp import IDP_NAMES
from scimgate.service import app_view, roles, settings
from scimgate.service.admins import AdminAccount
from scimgate.service.audit import audit_page, parse_filter

_PAGE = 50


def _back(slug: str) -> Response:
    return RedirectResponse(f"/admin/tenants/{slug}/roles", status_code=303)


@signed_in
async def role_page(request: Request, account: AdminAccount, session: security.Session) -> Response:
    tenant = tenant_for(request, account)
    db = database_of(request)
    context: dict[str, Any] = {
        "tenant": tenant,
        "rules": await run_in_threadpool(roles.list_rules, db, tenant),
        "roles": await run_in_threadpool(roles.list_roles, db, tenant),
        "settings": await run_in_threadpool(settings.get_settings, db, tenant),
        "groups": (await run_in_threadpool(app_view.list_groups, db, tenant, limit=200)).items,
    }
    return render(request, "roles.html", session, account=account, **context)


@signed_in
async def add_rule(request: Request, account: AdminAccount, session: security.Session) -> Response:
    form = await request.form()
    security.check_csrf(session, form.get("csrf"))
    tenant = tenant_for(request, account)
    priority_text = str(form.get("priority") or "100").strip()
    if not priority_text.isdigit():
        raise InvalidValue("priority must be a whole number")
    await run_in_threadpool(
        lambda: roles.add_rule(
            database_of(request),
            tenant,
            str(form.get("group", "")),
            str(form.get("role", "")),
            priority=int(priority_text),
            match_type=str(form.get("match_type") or "display_name"),
        )
    )
    return _back(tenant.slug)


@signed_in
async def remove_rule(
    request: Request, account: AdminAccount, session: security.Session
) -> Response:
    form = await request.form()
    security.check_csrf(session, form.get("csrf"))
    tenant = tenant_for(request, account)
    rule_id = request.path_params["rule_id"]
    await run_in_threadpool(roles.remove_rule, database_of(request), tenant, rule_id)
    return _back(tenant.slug)


@signed_in
async def save_settings(
    request: Request, account: AdminAccount, session: security.Session
) -> Response:
    form = await request.form()
    security.check_csrf(session, form.get("csrf"))
    tenant = tenant_for(request, account)
    changes = {
        "default_role": str(form.get("default_role") or "") or None,
        "role_mode": str(form.get("role_mode") or "single"),
        "deactivate_unmapped": form.get("deactivate_unmapped") == "on",
    }
    await run_in_threadpool(settings.update_settings, database_of(request), tenant, changes)
    return _back(tenant.slug)


def _listing(template: str, lister: Callable[..., Any]) -> Handler:
    """A paginated, searchable page of one tenant's users or groups (``?q=``, ``?cursor=``)."""

    @signed_in
    async def page(request: Request, account: AdminAccount, session: security.Session) -> Response:
        tenant = tenant_for(request, account)
        cursor = request.query_params.get("cursor") or None
        search = request.query_params.get("q", "")
        found = await run_in_threadpool(
            lambda: lister(database_of(request), tenant, cursor=cursor, limit=_PAGE, search=search)
        )
        return render(
            request, template, session, account=account, tenant=tenant, page=found, q=search
        )

    return page


users_page = _listing("users.html", app_view.list_users)
groups_page = _listing("groups.html", app_view.list_groups)


@signed_in
async def audit_log_page(
    request: Request, account: AdminAccount, session: security.Session
) -> Response:
    tenant = tenant_for(request, account)
    query = request.query_params
    since_text = query.get("since") or ""
    where = parse_filter(
        idp=query.get("idp"),
        outcome=query.get("outcome"),
        resource_type=query.get("resource"),
        since=app_view.parse_timestamp(since_text) if since_text else None,
        cursor=query.get("cursor"),
    )
    entries = await run_in_threadpool(audit_page, database_of(request), tenant, where, _PAGE)
    following = {k: v for k, v in query.items() if k != "cursor"}
    if len(entries) == _PAGE:
        following["cursor"] = str(entries[-1].id)
    return render(
        request,
        "audit.html",
        session,
        account=account,
        tenant=tenant,
        entries=entries,
        more=len(entries) == _PAGE,
        following=following,
        filters={
            "idp": where.idp,
            "outcome": where.outcome,
            "resource": where.resource_type,
            "since": since_text,
        },
        idp_names=IDP_NAMES,
    )


def directory_routes() -> list[BaseRoute]:
    return [
        Route("/tenants/{slug}/roles", role_page, methods=["GET"]),
        Route("/tenants/{slug}/roles/rules", add_rule, methods=["POST"]),
        Route("/tenants/{slug}/roles/rules/{rule_id:int}/remove", remove_rule, methods=["POST"]),
        Route("/tenants/{slug}/roles/settings", save_settings, methods=["POST"]),
        Route("/tenants/{slug}/users", users_page, methods=["GET"]),
        Route("/tenants/{slug}/groups", groups_page, methods=["GET"]),
        Route("/tenants/{slug}/audit", audit_log_page, methods=["GET"]),
    ]
