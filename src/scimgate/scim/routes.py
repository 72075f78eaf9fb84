"""SCIM endpoints under ``/scim/v2/{tenant}``. Each: parse, one service call, respond."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from scimgate.errors import Forbidden, MethodNotAllowed, NotFound, NotImplementedByServer
from scimgate.model.discovery import (
    resource_type_document,
    schema_document,
    service_provider_config,
)
from scimgate.model.patch import parse_patch_request
from scimgate.model.schemas import (
    LIST_RESPONSE_SCHEMA,
    RESOURCE_TYPES,
    SCHEMAS,
    ResourceType,
)
from scimgate.scim.compat import (
    normalize_bulk_body,
    normalize_patch_body,
    normalize_resource_body,
)
from scimgate.scim.context import scim_context, with_cached_token
from scimgate.scim.params import (
    Shown,
    list_query_from_params,
    list_query_from_search,
    read_json_object,
    shown_params,
)
from scimgate.scim.responses import ScimResponse
from scimgate.service import bulk, resource_services
from scimgate.service.listing import ListResult
from scimgate.service.resource_services import ResourceService, service_for
from scimgate.service.resources import Resource, matches_etag

_ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def _list_response(result: ListResult) -> ScimResponse:
    return ScimResponse(
        {
            "schemas": [LIST_RESPONSE_SCHEMA],
            "totalResults": result.total,
            "startIndex": result.start_index,
            "itemsPerPage": len(result.resources),
            "Resources": result.resources,
        }
    )


def _resource_response(
    resource: Resource, rt: ResourceType, shown: Shown, status: int = 200
) -> ScimResponse:
    location = resource.location if status == 201 else None
    return ScimResponse(
        shown.project(resource.body, rt), status, etag=resource.etag, location=location
    )


# -- discovery (RFC 7644 §4) ------------------------------------------------------


def _refuse_filter(request: Request) -> None:
    # RFC 7644 §4: a filter on a discovery endpoint SHOULD get 403, so a client
    # cannot believe the documents it gets matched its conditions.
    if "filter" in request.query_params:
        raise Forbidden("discovery endpoints do not support filtering")


async def get_service_provider_config(request: Request) -> Response:
    ctx = await scim_context(request)
    _refuse_filter(request)
    limits = ctx.scope.limits
    return ScimResponse(
        service_provider_config(
            ctx.scope.base_url,
            max_operations=limits.max_bulk_operations,
            max_payload_size=limits.max_payload_bytes,
            max_results=limits.max_results,
        )
    )


async def list_resource_types(request: Request) -> Response:
    ctx = await scim_context(request)
    _refuse_filter(request)
    docs = [resource_type_document(rt, ctx.scope.base_url) for rt in RESOURCE_TYPES]
    return _list_response(ListResult(total=len(docs), start_index=1, resources=docs))


async def get_resource_type(request: Request) -> Response:
    ctx = await scim_context(request)
    name = request.path_params["name"]
    for rt in RESOURCE_TYPES:
        if rt.name == name:
            return ScimResponse(resource_type_document(rt, ctx.scope.base_url))
    raise NotFound(f"No resource type {name}")


async def list_schemas(request: Request) -> Response:
    ctx = await scim_context(request)
    _refuse_filter(request)
    docs = [schema_document(schema, ctx.scope.base_url) for schema in SCHEMAS]
    return _list_response(ListResult(total=len(docs), start_index=1, resources=docs))


async def get_schema(request: Request) -> Response:
    ctx = await scim_context(request)
    schema_id = request.path_params["schema_id"]
    for schema in SCHEMAS:
        if schema.id == schema_id:
            return ScimResponse(schema_document(schema, ctx.scope.base_url))
    raise NotFound(f"No schema {schema_id}")


async def read_only_endpoint(request: Request) -> Response:
    await scim_context(request)
    raise MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}")


# -- Users and Groups -------------------------------------------------------------


async def list_resources(request: Request, service: ResourceService) -> Response:
    ctx = await scim_context(request)
    query = list_query_from_params(request)
    return _list_response(await ctx.read(service.list, service.await_lookup, ctx.scope, query))


async def search_resources(request: Request, service: ResourceService) -> Response:
    ctx = await scim_context(request)
    query = list_query_from_search(await read_json_object(request, ctx.scope.limits))
    return _list_response(await ctx.run(service.list, ctx.scope, query))


async def search_root(request: Request) -> Response:
    ctx = await scim_context(request)
    query = list_query_from_search(await read_json_object(request, ctx.scope.limits))
    return _list_response(await ctx.run(resource_services.search_all, ctx.scope, query))


async def create_resource(request: Request, service: ResourceService) -> Response:
    ctx = await scim_context(request)
    shown = shown_params(request)
    payload = normalize_resource_body(
        await read_json_object(request, ctx.scope.limits),
        service.rt,
        ctx.scope.registered_extensions,
    )
    resource = await ctx.run(
        service.create, ctx.scope, payload, related=shown.wants(service.rt, service.related)
    )
    return _resource_response(resource, service.rt, shown, 201)


async def get_resource(request: Request, service: ResourceService) -> Response:
    ctx = await scim_context(request)
    shown = shown_params(request)
    resource = await ctx.read(
        service.get,
        service.await_get,
        ctx.scope,
        request.path_params["id"],
        related=shown.wants(service.rt, service.related),
    )
    if matches_etag(request.headers.get("if-none-match"), resource.version):
        return Response(status_code=304, headers={"ETag": resource.etag})
    return _resource_response(resource, service.rt, shown)


async def replace_resource(request: Request, service: ResourceService) -> Response:
    ctx = await scim_context(request)
    shown = shown_params(request)
    payload = normalize_resource_body(
        await read_json_object(request, ctx.scope.limits),
        service.rt,
        ctx.scope.registered_extensions,
    )
    resource = await ctx.run(
        service.replace,
        ctx.scope,
        request.path_params["id"],
        payload,
        if_match=request.headers.get("if-match"),
        related=shown.wants(service.rt, service.related),
    )
    return _resource_response(resource, service.rt, shown)


async def patch_resource(request: Request, service: ResourceService) -> Response:
    ctx = await scim_context(request)
    shown = shown_params(request)
    body = normalize_patch_body(
        await read_json_object(request, ctx.scope.limits),
        service.rt,
        ctx.scope.registered_extensions,
    )
    operations = parse_patch_request(body, max_operations=ctx.scope.limits.max_patch_operations)
    # RFC 7644 §3.5.2 allows 204: a Group PATCH returns the group (and its
    # possibly 100k members) only when the client asks for attributes.
    patched = await ctx.run(
        service.patch,
        ctx.scope,
        request.path_params["id"],
        operations,
        if_match=request.headers.get("if-match"),
        related=shown.wants(service.rt, service.related),
        body=shown.asked,
    )
    if patched is None:
        return Response(status_code=204)
    return _resource_response(patched, service.rt, shown)


async def delete_resource(request: Request, service: ResourceService) -> Response:
    ctx = await scim_context(request)
    await ctx.run(
        service.delete,
        ctx.scope,
        request.path_params["id"],
        if_match=request.headers.get("if-match"),
    )
    return Response(status_code=204)


async def post_bulk(request: Request) -> Response:
    ctx = await scim_context(request)
    payload = normalize_bulk_body(
        await read_json_object(request, ctx.scope.limits),
        ctx.scope.registered_extensions,
    )
    result: dict[str, Any] = await ctx.run(bulk.process_bulk, ctx.scope, payload)
    return ScimResponse(result)


async def me(request: Request) -> Response:
    await scim_context(request)
    raise NotImplementedByServer("/Me is not supported: SCIM tokens act for a tenant, not a user")


async def unknown_endpoint(request: Request) -> Response:
    await scim_context(request)  # authenticate first: unknown paths leak nothing
    raise NotFound(f"No SCIM endpoint at {request.url.path}")


def _for(
    endpoint: Callable[[Request, ResourceService], Awaitable[Response]], service: ResourceService
) -> Any:
    async def bound(request: Request) -> Response:
        return await endpoint(request, service)

    bound.__name__ = f"{endpoint.__name__}_{service.rt.name.lower()}"
    # Each of these endpoints does its work in the service's tenant transactions.
    return with_cached_token(bound)


Endpoint = Callable[[Request], Awaitable[Response]]


def _route(path: str, handlers: dict[str, Endpoint], otherwise: Endpoint | None = None) -> Route:
    """One route per path, dispatching on the method.

    Starlette tries routes in order: a route per (path, method) made a request
    to ``/Groups/{id}`` test about twenty patterns, while one route per path,
    resource paths first, tests at most six (cost in bench/README.md).
    """
    if "GET" in handlers:
        handlers = {"HEAD": handlers["GET"], **handlers}

    async def dispatch(request: Request) -> Response:
        handler = handlers.get(request.method, otherwise)
        assert handler is not None  # the route's methods are the handlers' (or all)
        return await handler(request)

    first = next(iter(handlers.values()))
    dispatch.__name__ = getattr(first, "__name__", "dispatch")
    return Route(path, dispatch, methods=_ALL_METHODS if otherwise else list(handlers))


def scim_routes() -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for rt in RESOURCE_TYPES:
        service = service_for(rt)
        collection = rt.endpoint
        listing = {"GET": _for(list_resources, service), "POST": _for(create_resource, service)}
        routes += [
            _route(collection, listing),
            _route(f"{collection}/.search", {"POST": _for(search_resources, service)}),
            _route(
                f"{collection}/{{id}}",
                {
                    "GET": _for(get_resource, service),
                    "PUT": _for(replace_resource, service),
                    "PATCH": _for(patch_resource, service),
                    "DELETE": _for(delete_resource, service),
                },
            ),
            # Microsoft's reference tests list "/Users/?filter=...": a trailing
            # slash on a collection (compat: trailing-slash-collections).
            _route(f"{collection}/", listing),
        ]
    routes += [
        _route("/ServiceProviderConfig", {"GET": get_service_provider_config}, read_only_endpoint),
        _route("/ResourceTypes", {"GET": list_resource_types}, read_only_endpoint),
        _route("/ResourceTypes/{name}", {"GET": get_resource_type}, read_only_endpoint),
        _route("/Schemas", {"GET": list_schemas}, read_only_endpoint),
        _route("/Schemas/{schema_id}", {"GET": get_schema}, read_only_endpoint),
        _route("/.search", {"POST": search_root}),
        _route("/Bulk", {"POST": post_bulk}),
        Route("/Me", me, methods=_ALL_METHODS),
        Route("/Me/{path:path}", me, methods=_ALL_METHODS),
        Route("/{path:path}", unknown_endpoint, methods=_ALL_METHODS),
    ]
    return routes
