"""Discovery documents: ``/Schemas``, ``/ResourceTypes``, ``/ServiceProviderConfig``.

Pure builders turning the definitions in :mod:`scimgate.model.schemas` into
JSON-ready dicts (RFC 7643 §5, §6, §7). Clients such as scim2-tester build
their models from these documents and then check every response against
them, so what is published here must match what the server really does.
"""

from __future__ import annotations

from typing import Any

from scimgate.model.schemas import Attribute, ResourceType, Schema

SCHEMA_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"
RESOURCE_TYPE_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SERVICE_PROVIDER_CONFIG_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"

_BEARER_SPEC = "https://www.rfc-editor.org/info/rfc6750"


def _attribute_document(attr: Attribute) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": attr.name,
        "type": attr.type,
        "multiValued": attr.multi_valued,
        "description": attr.description,
        "required": attr.required,
        "caseExact": attr.case_exact,
        "mutability": attr.mutability,
        "returned": attr.returned,
        "uniqueness": attr.uniqueness,
    }
    if attr.canonical_values:
        doc["canonicalValues"] = list(attr.canonical_values)
    if attr.type == "reference":
        # RFC 7643 §7 lets referenceTypes be left out, but clients then read
        # the value as a plain URI; naming the types keeps "User"/"Group"
        # references typed on their side.
        doc["referenceTypes"] = list(attr.reference_types or ("uri",))
    if attr.type == "complex":
        doc["subAttributes"] = [_attribute_document(sub) for sub in attr.sub_attributes]
    return doc


def schema_document(schema: Schema, base_url: str) -> dict[str, Any]:
    """The ``/Schemas/{id}`` representation of ``schema`` (RFC 7643 §7).

    The common attributes (``id``, ``externalId``, ``meta``) are left out, as
    §3.1 and §7 keep them out of schema definitions.
    """
    return {
        "schemas": [SCHEMA_SCHEMA],
        "id": schema.id,
        "name": schema.name,
        "description": schema.description,
        "attributes": [_attribute_document(attr) for attr in schema.attributes],
        "meta": {
            "resourceType": "Schema",
            "location": f"{base_url.rstrip('/')}/Schemas/{schema.id}",
        },
    }


def resource_type_document(rt: ResourceType, base_url: str) -> dict[str, Any]:
    """The ``/ResourceTypes/{name}`` representation of ``rt`` (RFC 7643 §6)."""
    doc: dict[str, Any] = {
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": rt.name,
        "name": rt.name,
        "endpoint": rt.endpoint,
        "description": rt.description,
        "schema": rt.schema.id,
    }
    if rt.extensions:
        doc["schemaExtensions"] = [
            {"schema": ext.id, "required": ext.id in rt.required_extensions}
            for ext in rt.extensions
        ]
    doc["meta"] = {
        "resourceType": "ResourceType",
        "location": f"{base_url.rstrip('/')}/ResourceTypes/{rt.name}",
    }
    return doc


def service_provider_config(
    base_url: str,
    *,
    max_operations: int,
    max_payload_size: int,
    max_results: int,
    documentation_uri: str | None = None,
) -> dict[str, Any]:
    """The ``/ServiceProviderConfig`` document (RFC 7643 §5).

    Some clients (authentik, Rippling) pick PUT or PATCH and bulk or single
    requests from this document, so each flag states what scimgate does.
    """
    scheme: dict[str, Any] = {
        "type": "oauthbearertoken",
        "name": "OAuth Bearer Token",
        "description": "Authentication with a bearer token issued by scimgate for one tenant.",
        "specUri": _BEARER_SPEC,
        "primary": True,
    }
    doc: dict[str, Any] = {"schemas": [SERVICE_PROVIDER_CONFIG_SCHEMA]}
    if documentation_uri:
        doc["documentationUri"] = documentation_uri
        scheme["documentationUri"] = documentation_uri
    doc.update(
        {
            "patch": {"supported": True},
            "bulk": {
                "supported": True,
                "maxOperations": max_operations,
                "maxPayloadSize": max_payload_size,
            },
            "filter": {"supported": True, "maxResults": max_results},
            "changePassword": {"supported": False},
            "sort": {"supported": True},
            "etag": {"supported": True},
            "authenticationSchemes": [scheme],
            "meta": {
                "resourceType": "ServiceProviderConfig",
                "location": f"{base_url.rstrip('/')}/ServiceProviderConfig",
            },
        }
    )
    return doc
