"""SAML sign-in end to end: the host's start URL, the real IdP's login form, the ACS, the code.

The browser is two HTTP clients: Starlette's test client for scimgate and an
httpx client for SimpleSAMLphp on 127.0.0.1; each step passes the other what a
browser would (the redirect to the IdP, the IdP's auto-submitting form).
Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
import sqlalchemy as sa

from scimgate.model.entities import Tenant
from scimgate.service import roles as role_service
from scimgate.service import saml, sso, sso_trial
from scimgate.service import settings as settings_service
from scimgate.service import tenants as tenant_service
from scimgate.service.sealing import SSO_SP_KEY, Keyring
from scimgate.storage.tables import sso_codes
from tests.idps.keys import make_key_pair
from tests.idps.simplesamlphp import (
    IdpPost,
)
from tests.sso.conftest import HOST, OTHER_HOST, PUBLIC_URL, World, code_of, refusal


def test_sign_in_creates_the_user_and_hands_a_code_to_the_host(world: World) -> None:
    acme, _ = world.tenant("acme")
    post = world.login(world.to_idp("acme", state="opaque-host-state"))
    assert post.action == f"{PUBLIC_URL}/sso/acme/saml/acs"
    code, state = code_of(world.post(post))
    assert state == "opaque-host-state"
    profile = world.profile(acme, code)
    assert profile["tenant"] == "acme"
    assert profile["email"] == "alice@example.test"
    assert profile["name"]["givenName"] == "Alice"
    assert profile["name"]["familyName"] == "Liddell"
    assert profile["enabled"] is True
    assert profile["groups"] == ["scim-admins", "engineering"]
    assert profile["connection"]["protocol"] == "saml"
    assert profile["claims"]["uid"] == ["alice"]
    again = world.exchange(acme, code)
    assert again.status_code == 400
    assert "invalid_grant" in again.text
    assert world.sign_ins(acme) == [(200, None, None)]


def test_the_idp_groups_map_to_roles(world: World) -> None:
    acme, _ = world.tenant("acme")
    role_service.add_role(world.db, acme, "admin", "Admin")
    role_service.add_role(world.db, acme, "editor", "Editor")
    role_service.add_rule(world.db, acme, "scim-admins", "admin")
    role_service.add_rule(world.db, acme, "engineering", "editor")
    settings_service.update_settings(world.db, acme, {"role_mode": "multiple"})
    code, _ = code_of(world.post(world.login(world.to_idp("acme"))))
    profile = world.profile(acme, code)
    assert profile["roles"] == ["admin", "editor"]
    assert profile["groups"] == ["scim-admins", "engineering"]


def test_the_relay_state_sent_to_the_idp_is_an_opaque_reference(world: World) -> None:
    world.tenant("acme")
    idp_url = world.to_idp("acme")
    relay = parse_qs(urlsplit(idp_url).query)["RelayState"][0]
    assert relay.startswith("_")
    assert HOST not in relay
    assert "app.example.test" not in idp_url


def test_replaying_the_same_post_is_refused(world: World) -> None:
    acme, _ = world.tenant("acme")
    post = world.login(world.to_idp("acme"))
    code_of(world.post(post))
    replay = world.post(post)
    refusal(replay, "replay")
    assert [row[:2] for row in world.sign_ins(acme)] == [(200, None), (403, "replay")]


def test_a_changed_relay_state_is_refused(world: World) -> None:
    world.tenant("acme")
    post = world.login(world.to_idp("acme"))
    refusal(world.post(post, RelayState="_another"), "state")


def test_a_tampered_response_is_refused_and_recorded(world: World) -> None:
    acme, _ = world.tenant("acme")
    post = world.login(world.to_idp("acme"))
    xml = saml.decode_message(post.saml_response).decode()
    forged = xml.replace(">engineering<", ">owners<")
    tampered = IdpPost(post.action, base64.b64encode(forged.encode()).decode(), post.relay_state)
    response = world.post(tampered)
    refusal(response, "signature")
    [(status, check, detail)] = world.sign_ins(acme)
    assert (status, check) == (403, "signature")
    assert detail is not None
    assert "altered after signing" in detail


def test_idp_initiated_is_refused_when_off_and_accepted_when_on(world: World) -> None:
    acme, connection = world.tenant("acme")
    refusal(world.post(world.idp_initiated("acme")), "idp_initiated")
    sso.update_connection(world.db, acme, connection.id, {"allow_idp_initiated": True})
    unsolicited = world.idp_initiated("acme")
    code, _ = code_of(world.post(unsolicited))
    assert world.profile(acme, code)["email"] == "bob@example.test"
    # No InResponseTo to spend: the assertion id alone stops the replay.
    refusal(world.post(unsolicited), "replay")
    code, _ = code_of(world.post(world.idp_initiated("acme", OTHER_HOST)), OTHER_HOST)


def test_idp_initiated_relay_state_to_an_unregistered_url_is_refused(world: World) -> None:
    """An IdP-initiated RelayState is the attacker's to choose: no open redirect."""
    acme, connection = world.tenant("acme")
    sso.update_connection(world.db, acme, connection.id, {"allow_idp_initiated": True})
    response = world.post(world.idp_initiated("acme", "https://evil.example.test/steal"))
    refusal(response, "redirect_uri")


@pytest.mark.parametrize("path", ["/sso/acme/start", "/sso/acme/saml/start"])
def test_a_redirect_uri_not_registered_is_refused_before_the_idp(world: World, path: str) -> None:
    _, connection = world.tenant("acme")
    response = world.http.get(
        path,
        params={"connection": str(connection.id), "redirect_uri": "https://evil.example.test/cb"},
        follow_redirects=False,
    )
    refusal(response, "redirect_uri")
    assert "location" not in response.headers


def test_tenant_a_response_posted_to_tenant_b_is_refused(world: World) -> None:
    world.tenant("acme")
    globex, _ = world.tenant("globex")
    post = world.login(world.to_idp("acme"))
    response = world.post(post, acs_path="/sso/globex/saml/acs")
    refusal(response, "destination")
    assert [row[:2] for row in world.sign_ins(globex)] == [(403, "destination")]


def test_a_response_from_an_idp_the_tenant_does_not_trust_is_refused(world: World) -> None:
    world.tenant("acme")
    initech = tenant_service.create_tenant(world.db, "initech")
    post = world.login(world.to_idp("acme"))
    refusal(world.post(post, acs_path="/sso/initech/saml/acs"), "issuer")
    assert [row[:2] for row in world.sign_ins(initech)] == [(403, "issuer")]


def test_the_metadata_route_publishes_the_tenant_sp(world: World) -> None:
    acme, _ = world.tenant("acme")
    response = world.http.get("/sso/acme/saml/metadata")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/samlmetadata+xml")
    # Never sniffed into a page a browser would run.
    assert response.headers["x-content-type-options"] == "nosniff"
    urls = sso.sp_urls(world.settings, "acme")
    assert f'entityID="{urls.entity_id}"' in response.text
    assert f'Location="{urls.acs_url}"' in response.text
    keys = sso.sp_keys(world.db, acme, Keyring.from_settings(world.settings, SSO_SP_KEY))
    body = "".join(line for line in keys.cert_pem.splitlines() if "-----" not in line)
    assert body in response.text.replace("\n", "")
    assert world.http.get("/sso/nobody/saml/metadata").status_code == 403


def test_a_connection_given_only_the_metadata_url_fetches_it_and_signs_in(world: World) -> None:
    acme, connection = world.tenant("acme", by_url=True)
    code, _ = code_of(world.post(world.login(world.to_idp("acme"))))
    assert world.profile(acme, code)["email"] == "alice@example.test"
    stored = sso.get_connection(world.db, acme, connection.id).config
    assert stored["idp_entity_id"] == world.idp.entity_id
    assert stored["idp_certificate_expiry"]


def test_an_encrypted_assertion_signs_in_and_a_clear_one_is_refused(world: World) -> None:
    globex, _ = world.tenant("globex", encrypt=True)
    post = world.login(world.to_idp("globex"), "bob")
    assert b"EncryptedAssertion" in saml.decode_message(post.saml_response)
    code, _ = code_of(world.post(post))
    assert world.profile(globex, code)["groups"] == ["readers"]
    world.tenant("acme")
    clear = world.login(world.to_idp("acme"))
    refusal(world.post(clear, acs_path="/sso/globex/saml/acs"), "encryption")


def _trial(world: World, tenant: Tenant, connection: sso.Connection) -> httpx2.Response:
    """The console's Test sign-in, through the IdP's login, up to the ACS's answer."""
    ticket = sso_trial.issue_ticket(world.db, tenant, connection)
    query = {"connection": str(connection.id), "trial": ticket}
    started = world.http.get(f"/sso/{tenant.slug}/saml/start", params=query, follow_redirects=False)
    assert started.status_code == 303, started.text
    assert started.headers["location"].startswith(world.idp.sso_url)
    again = world.http.get(f"/sso/{tenant.slug}/saml/start", params=query, follow_redirects=False)
    refusal(again, "start it again from the console")  # a ticket starts one test
    return world.post(world.login(started.headers["location"]))


def _report(world: World, tenant: Tenant, connection: sso.Connection, answer: Any) -> Any:
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    prefix = f"/admin/tenants/{tenant.slug}/sso/{connection.id}/tests/"
    assert location.startswith(prefix)
    return sso_trial.report(world.db, tenant, connection, location.removeprefix(prefix))


def test_a_test_sign_in_comes_back_to_the_console_and_changes_nothing(world: World) -> None:
    acme, connection = world.tenant("acme")
    role_service.add_role(world.db, acme, "admin", "Admin")
    role_service.add_rule(world.db, acme, "scim-admins", "admin")
    report = _report(world, acme, connection, _trial(world, acme, connection))
    assert report["ok"] is True
    words = {step["label"]: step["words"] for step in report["steps"]}
    assert {step["state"] for step in report["steps"]} == {"passed"}
    assert "just-in-time provisioning would create 'alice@example.test'" in words["User"]
    assert "gives admin" in words["Roles"]
    with world.db.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(sso_codes)).scalar() == 0
    with world.db.tenant(acme.id) as repo:
        assert repo.users.page(None, None, False, 0, 5).total == 0
        assert repo.events.after(0, 10) == []
    # The reused ticket's refusal, then the test.
    assert [r[:2] for r in world.sign_ins(acme)] == [(403, "state"), (200, "test")]


def test_a_test_sign_in_with_the_wrong_idp_certificate_shows_the_failed_check(
    world: World,
) -> None:
    acme, connection = world.tenant("acme")
    wrong = make_key_pair("not-the-idp.example.test").cert_pem
    connection = sso.update_connection(
        world.db,
        acme,
        connection.id,
        {"config": {**connection.config, "idp_certificates": [wrong]}},
    )
    report = _report(world, acme, connection, _trial(world, acme, connection))
    assert report["ok"] is False
    failed = [s for s in report["steps"] if s["state"] == "failed"]
    assert [s["label"] for s in failed] == ["Signature"]
    assert "IdP certificates" in failed[0]["words"]
    assert [r[:2] for r in world.sign_ins(acme)] == [(403, "state"), (403, "signature")]


def test_two_connections_to_one_idp_each_verify_the_sign_ins_they_started(world: World) -> None:
    """The InResponseTo names the connection; its certificates verify the response."""
    acme, good = world.tenant("acme")
    wrong = make_key_pair("not-the-idp.example.test").cert_pem
    rotated = sso.create_connection(
        world.db,
        acme,
        {
            "name": "Rotated",
            "protocol": "saml",
            "jit": True,
            "config": {**good.config, "idp_certificates": [wrong]},
        },
    )
    query = {"connection": str(good.id), "redirect_uri": HOST, "state": "s"}
    started = world.http.get("/sso/acme/saml/start", params=query, follow_redirects=False)
    assert started.status_code == 303, started.text
    code, _ = code_of(world.post(world.login(started.headers["location"])))
    assert world.profile(acme, code)["connection"]["name"] == "SimpleSAMLphp"
    report = _report(world, acme, rotated, _trial(world, acme, rotated))
    assert [s["label"] for s in report["steps"] if s["state"] == "failed"] == ["Signature"]


def test_an_assertion_encrypted_for_the_previous_certificate_is_read_until_the_rotation_ends(
    world: World,
) -> None:
    globex, _ = world.tenant("globex", encrypt=True)
    keyring = Keyring.from_settings(world.settings, SSO_SP_KEY)
    old = sso.sp_keys(world.db, globex, keyring)
    sso.rotate_sp_keys(world.db, globex, keyring)
    # The IdP has not fetched the new SP metadata: it still encrypts for the old certificate.
    urls = sso.sp_urls(world.settings, "globex")
    world.idp.register_sp(
        urls.entity_id, urls.acs_url, cert_pem=old.cert_pem, encrypt=True, validate_requests=False
    )
    post = world.login(world.to_idp("globex"), "bob")
    assert b"EncryptedAssertion" in saml.decode_message(post.saml_response)
    code, _ = code_of(world.post(post))
    assert world.profile(globex, code)["groups"] == ["readers"]
    sso.finish_rotation(world.db, globex, keyring)
    refusal(world.post(world.login(world.to_idp("globex"), "bob")), "encryption")
