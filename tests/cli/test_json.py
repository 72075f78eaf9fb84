"""Every ``--json`` output uses camelCase keys, like SCIM and the host API.

The keys inside ``attributeMapping`` and ``profile`` are the tenant's own profile
field names (``given_name``), and those inside an SSO connection's ``config`` the
protocol's settings as stored (``idp_entity_id``): data rather than shape, so
they are not checked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import click
import pytest
from starlette.applications import Starlette

from scimgate.cli import main
from tests.cli.conftest import Cli
from tests.events.receiver import Receiver
from tests.scim.contract import ScimClient

_DATA_MAPS = frozenset({"attributeMapping", "profile", "config"})


def _json_commands(group: click.Group, prefix: str = "") -> set[str]:
    """The full names of the commands that take ``--json``."""
    found: set[str] = set()
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found |= _json_commands(command, f"{prefix}{name} ")
        elif any(param.name == "as_json" for param in command.params):
            found.add(prefix + name)
    return found


def _snake_keys(value: Any, path: str = "") -> list[str]:
    """The path of every key holding an underscore, outside the data maps."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if "_" in key:
                found.append(f"{path}.{key}")
            if key not in _DATA_MAPS:
                found += _snake_keys(item, f"{path}.{key}")
    elif isinstance(value, list):
        for n, item in enumerate(value):
            found += _snake_keys(item, f"{path}[{n}]")
    return found


def test_the_key_check_finds_a_snake_case_key_at_any_depth() -> None:
    shape = {"tokens": [{"createdAt": None}, {"last_used_at": None}], "profile": {"a_b": 1}}
    assert _snake_keys(shape) == [".tokens[1].last_used_at"]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver().start()
    yield found
    found.stop()


def test_every_json_output_is_camel_case(
    run: Cli, scim: ScimClient, receiver: Receiver, app: Starlette
) -> None:
    outputs: dict[str, Any] = {}

    def record(name: str, *args: str) -> Any:
        outputs[name] = run.json(*name.split(), *args, "--json")
        return outputs[name]

    hook = record("webhook add", "acme", "--url", receiver.url)
    receiver.secret = hook["secret"]
    user = scim.make_user()
    scim.make_group("Engineering", [user])
    assert scim.post("/Users", scim.user_body(userName=user["userName"])).status_code == 409
    # The audit log is written in the background; `status` below must see the 409.
    app.state.audit_recorder.flush()
    assert run("worker", "--once").exit_code == 0

    record("tenant create", "globex")
    record("tenant list")
    record("token create", "acme")
    record("token list", "acme")
    record("apikey create", "--tenant", "acme")
    record("apikey list")
    record("role list", "acme")
    record("role-mapping add", "acme", "--group", "Engineering", "--role", "tenant_admin")
    record("role-mapping list", "acme")
    record("user list", "acme")
    record("settings show", "acme")
    record("webhook list", "acme")
    delivered = record("webhook deliveries", "acme", hook["id"])
    record("webhook redeliver", "acme", hook["id"], delivered[0]["eventId"])
    status = record("status", "acme")
    record("status", "acme", "--doctor")
    # The test database is built without migrations, so `db check` fails on the
    # schema version; its JSON shape is printed all the same.
    outputs["db check"] = json.loads(run("db", "check", "--json").stdout)
    record("secrets reseal")
    record("setup-link create", "acme", "--scope", "scim")
    link = record("setup-link list", "acme")[0]
    record("setup-link uses", "acme", link["id"])
    saml = '{"idp_metadata_url": "https://idp.example.test/metadata", "group_attribute": "groups"}'
    made = record(
        "sso connections create", "acme", "--name", "Okta", "--protocol", "saml", "--config", saml
    )
    record("sso connections update", "acme", str(made["id"]), "--config", saml)
    record("sso connections list", "acme")
    record("sso sp-metadata", "acme")
    record("sso rotate-sp-keys", "acme")

    assert set(outputs) == _json_commands(main)
    # Nested objects are present, so their keys are checked too.
    assert status["lastError"] is not None
    assert status["tokens"]
    assert outputs["user list"][0]["groups"]
    assert {name: _snake_keys(output) for name, output in outputs.items()} == {
        name: [] for name in outputs
    }
