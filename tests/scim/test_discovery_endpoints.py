"""Discovery over HTTP (RFC 7644 §4): /ServiceProviderConfig, /ResourceTypes, /Schemas."""

from __future__ import annotations

from typing import Any

from tests.scim.contract import (
    ENTERPRISE,
    GROUP_SCHEMA,
    PUBLIC_BASE,
    USER_SCHEMA,
    ScimClient,
    assert_list_response,
    assert_scim_error,
    assert_scim_json,
)

BASE = f"{PUBLIC_BASE}/acme"


def _by(items: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {item[key]: item for item in items}


def test_service_provider_config_states_what_the_server_does(scim: ScimClient) -> None:
    response = scim.get("/ServiceProviderConfig")
    assert response.status_code == 200
    assert_scim_json(response)
    config = response.json()
    assert config["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"]
    assert config["patch"] == {"supported": True}
    assert config["bulk"] == {"supported": True, "maxOperations": 1000, "maxPayloadSize": 1048576}
    assert config["filter"] == {"supported": True, "maxResults": 1000}
    assert config["changePassword"] == {"supported": False}
    assert config["sort"] == {"supported": True}
    assert config["etag"] == {"supported": True}
    [scheme] = config["authenticationSchemes"]
    assert scheme["type"] == "oauthbearertoken"
    assert scheme["name"]
    assert scheme["description"]
    assert config["meta"]["resourceType"] == "ServiceProviderConfig"
    assert config["meta"]["location"] == f"{BASE}/ServiceProviderConfig"


def test_paging_parameters_on_discovery_lists_are_ignored(scim: ScimClient) -> None:
    """RFC 7644 §4: on /ResourceTypes and /Schemas §3.4.2's parameters SHALL be ignored."""
    paged = {"startIndex": 2, "count": 1, "sortBy": "name"}
    assert len(assert_list_response(scim.get("/Schemas", params=paged))["Resources"]) == 3
    assert len(assert_list_response(scim.get("/ResourceTypes", params=paged))["Resources"]) == 2


def test_a_filter_on_discovery_lists_is_refused_with_403(scim: ScimClient) -> None:
    for path in ("/Schemas", "/ResourceTypes"):
        response = scim.get(path, params={"filter": 'name eq "User"'})
        assert_scim_error(response, 403)


def test_resource_types_lists_user_and_group(scim: ScimClient) -> None:
    body = assert_list_response(scim.get("/ResourceTypes"))
    assert body["totalResults"] == 2
    found = _by(body["Resources"], "id")
    assert set(found) == {"User", "Group"}
    user = found["User"]
    assert user["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"]
    assert user["name"] == "User"
    assert user["endpoint"] == "/Users"
    assert user["schema"] == USER_SCHEMA
    assert user["schemaExtensions"] == [{"schema": ENTERPRISE, "required": False}]
    assert user["meta"] == {
        "resourceType": "ResourceType",
        "location": f"{BASE}/ResourceTypes/User",
    }
    assert found["Group"]["endpoint"] == "/Groups"
    assert found["Group"]["schema"] == GROUP_SCHEMA
    assert scim.fetch("/ResourceTypes/User") == user
    assert scim.fetch("/ResourceTypes/Group") == found["Group"]
    assert_scim_error(scim.get("/ResourceTypes/Printer"), 404)


def test_schemas_describe_user_group_and_enterprise_user(scim: ScimClient) -> None:
    body = assert_list_response(scim.get("/Schemas"))
    found = _by(body["Resources"], "id")
    assert set(found) == {USER_SCHEMA, GROUP_SCHEMA, ENTERPRISE}
    assert body["totalResults"] == 3
    user = scim.fetch(f"/Schemas/{USER_SCHEMA}")
    assert user == found[USER_SCHEMA]
    assert user["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:Schema"]
    assert user["name"] == "User"
    assert user["meta"]["location"] == f"{BASE}/Schemas/{USER_SCHEMA}"
    attributes = _by(user["attributes"], "name")
    assert "id" not in attributes  # common attributes stay out of schemas (RFC 7643 §7)
    user_name = attributes["userName"]
    assert user_name["type"] == "string"
    assert user_name["required"] is True
    assert user_name["caseExact"] is False
    assert user_name["uniqueness"] == "server"
    password = attributes["password"]
    assert password["mutability"] == "writeOnly"
    assert password["returned"] == "never"
    groups = attributes["groups"]
    assert groups["mutability"] == "readOnly"
    assert groups["multiValued"] is True
    emails = _by(attributes["emails"]["subAttributes"], "name")
    assert set(emails) >= {"value", "type", "primary", "display"}
    members = _by(scim.fetch(f"/Schemas/{GROUP_SCHEMA}")["attributes"], "name")["members"]
    assert "User" in _by(members["subAttributes"], "name")["$ref"]["referenceTypes"]
    manager = _by(scim.fetch(f"/Schemas/{ENTERPRISE}")["attributes"], "name")["manager"]
    assert manager["type"] == "complex"
    assert_scim_error(scim.get("/Schemas/urn:example:no:such:schema"), 404)


def test_discovery_documents_are_read_only(scim: ScimClient) -> None:
    for method, path in (
        ("POST", "/ServiceProviderConfig"),
        ("PUT", "/ServiceProviderConfig"),
        ("PATCH", "/ResourceTypes/User"),
        ("DELETE", "/ResourceTypes/User"),
        ("POST", "/Schemas"),
        ("DELETE", f"/Schemas/{USER_SCHEMA}"),
    ):
        response = scim.request(method, path, json={"schemas": []})
        assert_scim_error(response, 405)
        assert scim.get(path).status_code == 200


def test_me_is_not_implemented(scim: ScimClient) -> None:
    """RFC 7644 §3.11 lets a server without /Me answer 501."""
    assert_scim_error(scim.get("/Me"), 501)
    assert_scim_error(scim.post("/Me", {"userName": "me"}), 501)
    assert scim.get("/Users").json()["totalResults"] == 0


def test_an_unknown_path_is_a_scim_404(scim: ScimClient) -> None:
    for path in ("/Printers", "/Users/a/b", "/v1/Users"):
        assert_scim_error(scim.get(path), 404)
