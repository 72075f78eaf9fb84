"""``scimgate status``."""

from __future__ import annotations

import json

from starlette.testclient import TestClient

from tests.cli.conftest import Cli
from tests.scim.contract import ScimClient

OKTA = {"User-Agent": "Okta SCIM Client 1.0.0"}


def test_status_of_a_tenant_without_tokens(run: Cli) -> None:
    run("tenant", "create", "acme")
    assert run.json("status", "acme", "--json")["state"] == "not configured"
    text = run("status", "acme")
    assert "state:         not configured" in text.stdout


def test_status_of_an_unknown_tenant_fails_in_one_line(run: Cli) -> None:
    result = run("status", "nope")
    assert result.exit_code == 1
    assert "error:" in result.stderr


def test_the_doctor_explains_a_doubled_base_url(
    run: Cli, scim: ScimClient, client: TestClient
) -> None:
    assert run("status", "acme", "--doctor").stdout == "acme: the doctor found nothing wrong.\n"
    assert scim.get("/scim/v2/acme/Users", headers=OKTA).status_code == 404
    client.app.state.audit_recorder.flush()  # type: ignore[attr-defined]

    result = run("status", "acme", "--doctor")
    assert result.exit_code == 1  # an error finding fails the command, for monitoring
    text = result.stdout
    assert text.startswith(
        "ERROR  Requests arrive at a doubled path: the base URL was pasted twice  "
        "[base_url_doubled]\n  What:  Okta's requests arrive at /scim/v2/acme/scim/v2/acme/Users"
    )
    assert (
        "  Fix:   Set Okta: Applications → your app → Provisioning → Integration → "
        "“SCIM connector base URL” to exactly https://scim.example.test/scim/v2/acme"
    ) in text
    as_json = run("status", "acme", "--doctor", "--json")
    assert as_json.exit_code == 1
    report = json.loads(as_json.stdout)
    assert report["tenant"] == "acme"
    assert report["healthy"] is False
    (finding,) = report["findings"]
    assert finding["rule"] == "base_url_doubled"
    assert finding["idp"] == "okta"
    assert finding["evidence"]["count"] == 1


def test_the_doctor_exits_0_when_it_finds_only_warnings(run: Cli) -> None:
    run("tenant", "create", "acme")
    run("token", "create", "acme", "--expires-in-days", "3")
    result = run("status", "acme", "--doctor", "--json")
    assert result.exit_code == 0, result.output
    (finding,) = json.loads(result.stdout)["findings"]
    assert (finding["rule"], finding["severity"]) == ("token_expiring", "warning")
