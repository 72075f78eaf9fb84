"""Upgrading a database that holds data, from the previous release's schema to head.

The rows are written with raw SQL for that schema, as the previous release
left them, so the test does not depend on today's code to create them.
Whatever migrations come after it, ``db upgrade`` goes to head.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from starlette.testclient import TestClient

from scimgate.app import create_app
from scimgate.config import Settings
from scimgate.service.tokens import TOKEN_MARKER, hash_secret
from scimgate.storage.database import Database
from scimgate.storage.migrate import upgrade
from tests.cli.conftest import Cli
from tests.deploy.conftest import BlankDatabase

# The head of the previous release: 0004 only added an index.
PREVIOUS_RELEASE = "0003"
SECRET = TOKEN_MARKER + "u" * 43
ADA = "11111111-1111-4111-8111-111111111111"
GRACE = "22222222-2222-4222-8222-222222222222"
GROUP = "33333333-3333-4333-8333-333333333333"
AT = "2026-01-01T00:00:00.000000Z"

_ROWS = [
    (
        "INSERT INTO tenants (id, slug, name, created_at, disabled, settings)"
        " VALUES (1, 'acme', 'Acme', :at, false, '{}')",
        {},
    ),
    (
        "INSERT INTO scim_tokens (id, tenant_id, name, prefix, secret_hash, created_at)"
        " VALUES ('tok1', 1, 'Okta', :prefix, :hash, :at)",
        {"prefix": SECRET[:12], "hash": hash_secret(SECRET)},
    ),
    *(
        (
            "INSERT INTO users (id, tenant_id, user_name, user_name_lower, external_id,"
            " display_name, active, created, last_modified, version, doc, enabled)"
            " VALUES (:id, 1, :name, :lower, NULL, :name, true, :at, :at, 1, :doc, true)",
            {
                "id": user_id,
                "name": name,
                "lower": name.lower(),
                "doc": json.dumps(
                    {
                        "userName": name,
                        "displayName": name,
                        "active": True,
                        "name": {"givenName": name},
                    }
                ),
            },
        )
        for user_id, name in ((ADA, "Ada"), (GRACE, "Grace"))
    ),
    (
        "INSERT INTO groups (id, tenant_id, display_name, display_name_lower, external_id,"
        " created, last_modified, version, doc)"
        " VALUES (:id, 1, 'Engineering', 'engineering', NULL, :at, :at, 1, :doc)",
        {"id": GROUP, "doc": json.dumps({"displayName": "Engineering"})},
    ),
    *(
        (
            "INSERT INTO group_members (group_id, member_id, tenant_id) VALUES (:g, :m, 1)",
            {"g": GROUP, "m": member},
        )
        for member in (ADA, GRACE)
    ),
    (
        "INSERT INTO roles (id, tenant_id, key, name, created_at)"
        " VALUES (1, 1, 'tenant_admin', 'Admin', :at)",
        {},
    ),
    (
        "INSERT INTO role_mappings (id, tenant_id, match_type, match_value, match_value_lower,"
        " role_key, priority, created_at)"
        " VALUES (1, 1, 'display_name', 'Engineering', 'engineering', 'tenant_admin', 100, :at)",
        {},
    ),
    (
        "INSERT INTO user_roles (user_id, role_key, tenant_id) VALUES (:u, 'tenant_admin', 1)",
        {"u": ADA},
    ),
    (
        "INSERT INTO events (seq, id, tenant_id, type, occurred_at, resource_type, resource_id,"
        " data) VALUES (1, 'ev1', 1, 'user.created', :at, 'User', :u, '{}')",
        {"u": ADA},
    ),
    (
        "INSERT INTO webhooks (id, tenant_id, url, secret, event_types, enabled, created_at,"
        " cursor_seq, attempts) VALUES ('wh1', 1, 'https://hooks.example.test/scim',"
        " 'whsec_c2VjcmV0', '{\"types\": []}', true, :at, 0, 0)",
        {},
    ),
]


def _fill_previous_release(url: str) -> None:
    upgrade(url, PREVIOUS_RELEASE)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for statement, values in _ROWS:
            conn.execute(sa.text(statement), {"at": AT, "prefix": None, **values})
        if engine.dialect.name == "postgresql":
            # Rows inserted with explicit ids leave the sequences behind.
            for table in ("tenants", "roles", "role_mappings", "events"):
                key = "seq" if table == "events" else "id"
                conn.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', '{key}'),"
                        f" (SELECT max({key}) FROM {table}))"
                    )
                )
    engine.dispose()


def test_an_upgrade_keeps_the_previous_releases_data_and_serves_it(
    blank_database: BlankDatabase,
) -> None:
    url = blank_database()
    _fill_previous_release(url)
    run = Cli(url)

    assert run("db", "upgrade").exit_code == 0

    found = run.json("db", "check", "--json")
    assert found["schema"]["upgradeDue"] is False
    assert found["tenants"] == [
        {"slug": "acme", "users": 2, "groups": 1, "liveTokens": 1, "events": 1, "webhooks": 1}
    ]
    settings = Settings(database_url=url, public_url="https://scim.example.test", dev_mode=True)
    db = Database.from_url(url)
    try:
        with TestClient(create_app(settings, database=db)) as client:
            headers = {"Authorization": f"Bearer {SECRET}"}
            user = client.get(f"/scim/v2/acme/Users/{ADA}", headers=headers)
            group = client.get(f"/scim/v2/acme/Groups/{GROUP}", headers=headers)
    finally:
        db.dispose()
    assert user.status_code == 200, user.text
    assert user.json()["userName"] == "Ada"
    assert user.json()["name"]["givenName"] == "Ada"
    assert group.status_code == 200, group.text
    assert {member["value"] for member in group.json()["members"]} == {ADA, GRACE}
    # New rows take ids after the old ones.
    assert run("tenant", "create", "globex").exit_code == 0
