"""``scimgate settings show`` and ``scimgate settings set``."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Cli


def test_settings_show_and_set(run: Cli) -> None:
    run("tenant", "create", "acme")
    result = run(
        "settings", "set", "acme", "role_mode=multiple", "deactivate_unmapped=true",
        "soft_delete_days=10", "default_role=none", "delete_mode=hard",
        "attribute_mapping.team=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:division",
        "attribute_mapping.title=", "scim_extensions=urn:a:b,urn:c:d",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    shown = run.json("settings", "show", "acme", "--json")
    assert shown["roleMode"] == "multiple"
    assert shown["deactivateUnmapped"] is True
    assert shown["softDeleteDays"] == 10
    assert shown["defaultRole"] is None
    assert shown["deleteMode"] == "hard"
    assert shown["attributeMapping"]["team"].endswith(":division")
    assert "title" not in shown["attributeMapping"]
    assert shown["scimExtensions"] == ["urn:a:b", "urn:c:d"]
    text = run("settings", "show", "acme").stdout
    assert "default_role=none" in text
    assert "deactivate_unmapped=true" in text


def test_settings_set_replaces_the_whole_mapping_from_json(run: Cli) -> None:
    run("tenant", "create", "acme")
    assert run("settings", "set", "acme", 'attribute_mapping={"t": "title"}').exit_code == 0
    assert run.json("settings", "show", "acme", "--json")["attributeMapping"] == {"t": "title"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("settings", "set", "acme", "role_mode"), "not KEY=VALUE"),
        (("settings", "set", "acme", "role_mode=both"), "role_mode must be"),
        (("settings", "set", "acme", "deactivate_unmapped=maybe"), "true or false"),
        (("settings", "set", "acme", "soft_delete_days=ten"), "whole number"),
        (("settings", "set", "acme", "soft_delete_days=0"), "between 1 and 3650"),
        (("settings", "set", "acme", "default_role=ghost"), "no role"),
        (("settings", "set", "acme", "attribute_mapping={"), "JSON object"),
        (("settings", "set", "acme", "attribute_mapping.x=emails["), "profile field 'x'"),
        (("settings", "set", "acme", "colour=blue"), "unknown setting"),
        (("settings", "show", "nobody"), "no tenant"),
    ],
)
def test_errors_print_one_line_and_exit_non_zero(
    run: Cli, args: tuple[str, ...], message: str
) -> None:
    run("tenant", "create", "acme")
    assert message in run.fails(*args)
