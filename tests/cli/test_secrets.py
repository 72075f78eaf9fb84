"""``scimgate secrets reseal``: the key rotation procedure, run from the command line."""

from __future__ import annotations

from tests.cli.conftest import Cli

KEY_A = "first-key-0123456789abcdefghijklmnop"
KEY_B = "second-key-0123456789abcdefghijklmno"
KEY_C = "third-key-0123456789abcdefghijklmnop"


def _keys(run: Cli, current: str, previous: str = "") -> None:
    run.env["SCIMGATE_SECRET_KEY"] = current
    run.env["SCIMGATE_SECRET_KEY_PREVIOUS"] = previous


def test_rotating_the_key_then_resealing_lets_the_previous_key_go(run: Cli) -> None:
    run("tenant", "create", "acme")
    _keys(run, KEY_A)
    run.json("webhook", "add", "acme", "--url", "https://app.example.com/hooks", "--json")

    _keys(run, KEY_B, previous=KEY_A)
    first = run.json("secrets", "reseal", "--json")
    again = run.json("secrets", "reseal", "--json")

    assert first == {"resealed": 1, "sealed": 0, "current": 0, "unopened": []}
    assert again == {"resealed": 0, "sealed": 0, "current": 1, "unopened": []}
    _keys(run, KEY_B)
    assert run.json("secrets", "reseal", "--json")["current"] == 1


def test_a_secret_no_key_opens_makes_reseal_fail_and_name_it(run: Cli) -> None:
    _keys(run, KEY_A)
    hook = run.json("webhook", "add", "--global", "--url", "https://app.example.com/h", "--json")

    _keys(run, KEY_C)
    result = run("secrets", "reseal")

    assert result.exit_code == 1
    assert "0 resealed" in result.stdout
    assert f"webhook {hook['id']}:" in result.stderr
    assert "could not be opened" in result.stderr
