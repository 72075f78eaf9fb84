from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import scim2_models as sm

from scimgate.model.discovery import (
    resource_type_document,
    schema_document,
    service_provider_config,
)
from scimgate.model.schemas import (
    ENTERPRISE_USER_SCHEMA,
    GROUP,
    RESOURCE_TYPES,
    SCHEMAS,
    USER,
    USER_SCHEMA,
    Schema,
)

BASE = "https://scim.example.com/t/acme/scim/v2"
SAMPLES = Path(__file__).parent.parent / "samples"
RESPONSE = sm.Context.RESOURCE_QUERY_RESPONSE


def _config(**overrides: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "max_operations": 1000,
        "max_payload_size": 1_048_576,
        "max_results": 200,
        "documentation_uri": "https://docs.example.com/scimgate",
    }
    options.update(overrides)
    return service_provider_config(BASE, **options)


def _provider() -> sm.ScimProvider:
    schemas = [
        sm.Schema.model_validate(schema_document(s, BASE), scim_ctx=RESPONSE) for s in SCHEMAS
    ]
    resource_types = [
        sm.ResourceType.model_validate(resource_type_document(rt, BASE), scim_ctx=RESPONSE)
        for rt in RESOURCE_TYPES
    ]
    config = sm.ServiceProviderConfig.model_validate(_config(), scim_ctx=RESPONSE)
    return sm.ScimProvider.from_discovery(schemas, resource_types, config)


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s.name)
def test_schema_documents_parse_with_scim2_models(schema: Schema) -> None:
    parsed = sm.Schema.model_validate(schema_document(schema, BASE), scim_ctx=RESPONSE)
    assert parsed.id == schema.id
    assert [a.name for a in parsed.attributes or []] == [a.name for a in schema.attributes]


def test_schema_document_describes_every_characteristic() -> None:
    doc = schema_document(USER.schema, BASE)
    user_name = doc["attributes"][0]
    assert user_name == {
        "name": "userName",
        "type": "string",
        "multiValued": False,
        "description": user_name["description"],
        "required": True,
        "caseExact": False,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "server",
    }
    emails = next(a for a in doc["attributes"] if a["name"] == "emails")
    email_type = next(s for s in emails["subAttributes"] if s["name"] == "type")
    assert email_type["canonicalValues"] == ["work", "home", "other"]
    profile = next(a for a in doc["attributes"] if a["name"] == "profileUrl")
    assert profile["referenceTypes"] == ["external"]


def test_schema_document_leaves_out_the_common_attributes() -> None:
    names = {a["name"] for a in schema_document(USER.schema, BASE)["attributes"]}
    assert names.isdisjoint({"id", "externalId", "meta"})


def test_schema_document_meta_points_at_its_own_location() -> None:
    doc = schema_document(GROUP.schema, BASE + "/")
    assert doc["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:Schema"]
    assert doc["meta"] == {
        "resourceType": "Schema",
        "location": f"{BASE}/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group",
    }


def test_user_resource_type_names_the_enterprise_extension_as_optional() -> None:
    doc = resource_type_document(USER, BASE)
    parsed = sm.ResourceType.model_validate(doc, scim_ctx=RESPONSE)
    assert parsed.endpoint == "/Users"
    assert parsed.schema_ == USER_SCHEMA
    assert doc["schemaExtensions"] == [{"schema": ENTERPRISE_USER_SCHEMA, "required": False}]
    assert doc["meta"]["location"] == f"{BASE}/ResourceTypes/User"


def test_group_resource_type_has_no_extensions() -> None:
    doc = resource_type_document(GROUP, BASE)
    sm.ResourceType.model_validate(doc, scim_ctx=RESPONSE)
    assert "schemaExtensions" not in doc
    assert (doc["id"], doc["endpoint"]) == ("Group", "/Groups")


def test_service_provider_config_states_what_scimgate_supports() -> None:
    doc = _config()
    parsed = sm.ServiceProviderConfig.model_validate(doc, scim_ctx=RESPONSE)
    assert parsed.patch is not None
    assert parsed.patch.supported
    assert parsed.bulk is not None
    assert parsed.bulk.max_operations == 1000
    assert parsed.bulk.max_payload_size == 1_048_576
    assert parsed.filter is not None
    assert parsed.filter.max_results == 200
    assert parsed.change_password is not None
    assert not parsed.change_password.supported
    assert parsed.sort is not None
    assert parsed.sort.supported
    assert parsed.etag is not None
    assert parsed.etag.supported
    (scheme,) = parsed.authentication_schemes or []
    assert scheme.type == "oauthbearertoken"
    assert scheme.primary
    assert doc["meta"] == {
        "resourceType": "ServiceProviderConfig",
        "location": f"{BASE}/ServiceProviderConfig",
    }


def test_service_provider_config_without_documentation_omits_it() -> None:
    doc = _config(documentation_uri=None)
    sm.ServiceProviderConfig.model_validate(doc, scim_ctx=RESPONSE)
    assert "documentationUri" not in doc
    assert "documentationUri" not in doc["authenticationSchemes"][0]


def test_a_client_can_build_its_models_from_the_discovery_documents() -> None:
    provider = _provider()
    assert provider.model_for_endpoint("/Users") is not None
    assert provider.model_for_endpoint("/Groups") is not None


def test_the_rfc_full_user_validates_against_the_published_user_model() -> None:
    """scim2-tester checks every response against models built from /Schemas."""
    model = _provider().model_for("User")
    assert model is not None
    sample = json.loads((SAMPLES / "rfc7643" / "full_user.json").read_text())
    del sample["password"]  # returned "never": a response must not carry it
    user = model.model_validate(sample, scim_ctx=RESPONSE)
    dumped = user.model_dump(scim_ctx=RESPONSE)
    assert dumped["userName"] == "bjensen@example.com"
    assert dumped["name"]["givenName"] == "Barbara"
    assert len(dumped["groups"]) == 3


def test_a_group_with_members_validates_against_the_published_group_model() -> None:
    model = _provider().model_for("Group")
    assert model is not None
    group = model.model_validate(
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "id": "e9e30dba-f08f-4109-8486-d5c6a331660a",
            "displayName": "Tour Guides",
            "members": [
                {
                    "value": "2819c223-7f76-453a-919d-413861904646",
                    "$ref": f"{BASE}/Users/2819c223-7f76-453a-919d-413861904646",
                    "display": "Babs Jensen",
                    "type": "User",
                }
            ],
            "meta": {"resourceType": "Group", "location": f"{BASE}/Groups/e9e30dba"},
        },
        scim_ctx=RESPONSE,
    )
    assert group.model_dump(scim_ctx=RESPONSE)["members"][0]["display"] == "Babs Jensen"
