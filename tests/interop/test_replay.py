"""Each IdP's whole lifecycle, replayed as that IdP sends it, on SQLite and PostgreSQL.

The sample files under tests/samples/<idp>/ hold the requests; each step
also says what the user and group must look like afterwards, so these tests
fail when a request is accepted but stored wrongly, not only when it is
refused.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from scimgate.model.idp import detect_idp
from tests.interop.replay import IDPS, Replayer, load_sample


@pytest.mark.parametrize("idp", IDPS)
def test_the_whole_lifecycle_replays_and_leaves_the_right_state(
    replayer: Replayer, idp: str
) -> None:
    sample = load_sample(idp)
    assert sample["idp"] == idp
    results = replayer.run(sample)
    assert len(results) == len(sample["steps"])
    methods = {r.method for r in results}
    assert {"GET", "POST", "PATCH"} <= methods


@pytest.mark.parametrize("idp", IDPS)
def test_the_sample_is_detected_as_its_idp(idp: str) -> None:
    sample = load_sample(idp)
    first = sample["steps"][0]["request"]
    headers = {
        k.lower(): v
        for k, v in {**sample["headers"], **first.get("headers", {})}.items()
        if v is not None
    }
    url = urlsplit(first["path"])
    query = dict(parse_qsl(url.query))
    assert detect_idp(headers, first["method"], "/scim/v2/acme" + url.path, query) == idp


@pytest.mark.parametrize("idp", IDPS)
def test_every_sample_covers_the_lifecycle(idp: str) -> None:
    """Connection test, match, create, update, deactivate, reactivate, group push,
    membership add and remove, rename, delete: each named by some step."""
    names = " ".join(step["name"].lower() for step in load_sample(idp)["steps"])
    for stage in (
        "connection",
        "match",
        "create",
        "update",
        "deactivate",
        "reactivate",
        "group",
        "add",
        "remove",
        "rename",
        "delete",
    ):
        assert stage in names, f"{idp}: no step for {stage}"


def test_a_wrong_expectation_fails_the_replay(replayer: Replayer) -> None:
    """The engine compares stored state: a step stored wrongly fails, naming the step."""
    sample = load_sample("okta")
    step = next(s for s in sample["steps"] if s["name"] == "deactivate")
    step["state"][0]["expect"]["active"] = True
    with pytest.raises(AssertionError, match=r"okta step \d+ \(deactivate\).*active"):
        replayer.run(sample)


def test_placeholders_keep_the_type_of_what_they_name(replayer: Replayer) -> None:
    replayer.captured["user"] = {"id": "u1", "active": False, "meta": {"version": 'W/"2"'}}
    assert replayer.substitute("{{user.active}}") is False
    assert replayer.substitute("/Users/{{user.id}}?v={{user.meta.version}}") == '/Users/u1?v=W/"2"'
    with pytest.raises(AssertionError, match="nothing captured"):
        replayer.substitute("{{group.id}}")
