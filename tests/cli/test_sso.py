"""``scimgate sso``: connections and the SP values from the command line."""

from __future__ import annotations

import json

import sqlalchemy as sa

from tests.cli.conftest import Cli


def test_connections_are_created_changed_listed_and_removed(run: Cli, database_url: str) -> None:
    run("tenant", "create", "acme")
    result = run(
        "sso", "connections", "create", "acme", "--name", "Entra", "--protocol", "oidc",
        "--jit", "--match-by", "email",
        "--config", '{"issuer": "https://login.example.test", "client_id": "abc"}',
        "--client-secret-stdin", "--json",
        stdin="s3cret\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    made = json.loads(result.stdout)
    assert (made["name"], made["protocol"], made["jit"], made["matchBy"]) == (
        "Entra",
        "oidc",
        True,
        "email",
    )
    assert made["hasClientSecret"] is True
    assert made["config"] == {"issuer": "https://login.example.test", "client_id": "abc"}
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT client_secret FROM sso_connections")).scalar_one()
    engine.dispose()
    assert "s3cret" not in stored
    changed = run.json(
        "sso", "connections", "update", "acme", str(made["id"]), "--disabled", "--json"
    )
    assert (changed["enabled"], changed["jit"], changed["matchBy"]) == (False, True, "email")
    listed = run("sso", "connections", "list", "acme")
    assert listed.stdout.split("\t")[:4] == [str(made["id"]), "Entra", "oidc", "disabled"]
    clash = run.fails(
        "sso", "connections", "create", "acme", "--name", "Entra", "--protocol", "saml",
        "--config", '{"idp_metadata_url": "https://idp.example.test/metadata"}',
    )  # fmt: skip
    assert "has a connection named 'Entra'" in clash
    assert run("sso", "connections", "delete", "acme", str(made["id"])).exit_code == 0
    assert "not found" in run.fails("sso", "connections", "delete", "acme", str(made["id"]))


def test_a_config_that_is_not_a_json_object_is_refused(run: Cli) -> None:
    run("tenant", "create", "acme")
    line = run.fails(
        "sso", "connections", "create", "acme", "--name", "X", "--protocol", "saml",
        "--config", "[1]",
    )  # fmt: skip
    assert "JSON object" in line


def test_sp_metadata_prints_the_values_and_a_stable_certificate(run: Cli) -> None:
    run("tenant", "create", "acme")
    first = run.json("sso", "sp-metadata", "acme", "--json")
    assert first["acsUrl"] == "https://scim.example.test/sso/acme/saml/acs"
    assert first["entityId"] == "https://scim.example.test/sso/acme/saml/metadata"
    assert first["certificate"].startswith("-----BEGIN CERTIFICATE-----")
    assert run.json("sso", "sp-metadata", "acme", "--json")["certificate"] == first["certificate"]
    rotated = run.json("sso", "sp-metadata", "acme", "--rotate", "--json")
    assert rotated["previousCertificate"] == first["certificate"]
    assert rotated["certificate"] != first["certificate"]


def test_an_incomplete_connection_is_refused_in_one_line(run: Cli) -> None:
    run("tenant", "create", "acme")
    saml = run.fails("sso", "connections", "create", "acme", "--name", "X", "--protocol", "saml")
    assert "config.idp_entity_id is required" in saml
    oidc = run.fails(
        "sso", "connections", "create", "acme", "--name", "X", "--protocol", "oidc",
        "--config", '{"issuer": "https://login.example.test", "client_id": "abc"}',
    )  # fmt: skip
    assert "needs its client secret" in oidc
    http = run.fails(
        "sso", "connections", "create", "acme", "--name", "X", "--protocol", "saml",
        "--config", '{"idp_metadata_url": "http://idp.example.test/metadata"}',
    )  # fmt: skip
    assert "must use https" in http
    made = run.json(
        "sso", "connections", "create", "acme", "--name", "X", "--protocol", "saml",
        "--config", '{"idp_metadata_url": "https://idp.example.test/metadata"}', "--json",
    )  # fmt: skip
    unknown = run.fails(
        "sso", "connections", "update", "acme", str(made["id"]),
        "--config", '{"idp_metadata_url": "https://idp.example.test/md", "wants_encrypted": true}',
    )  # fmt: skip
    assert "unknown config keys for a saml connection: wants_encrypted" in unknown


def test_rotate_sp_keys_starts_and_finishes_a_rotation(run: Cli) -> None:
    run("tenant", "create", "acme")
    first = run.json("sso", "sp-metadata", "acme", "--json")["certificate"]
    started = run.json("sso", "rotate-sp-keys", "acme", "--json")
    assert (started["previousCertificate"], started["rotating"]) == (first, True)
    shown = run.json("sso", "sp-metadata", "acme", "--json")
    assert shown["previousCertificate"] == first
    assert "finish that rotation first" in run.fails("sso", "rotate-sp-keys", "acme")
    finished = run.json("sso", "rotate-sp-keys", "acme", "--finish", "--json")
    assert finished == {
        "certificate": started["certificate"],
        "previousCertificate": None,
        "rotating": False,
    }
    assert "no SP key rotation in progress" in run.fails(
        "sso", "rotate-sp-keys", "acme", "--finish"
    )
