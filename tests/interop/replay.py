"""Replaying an identity provider's request sequence against scimgate.

A sample file (``tests/samples/<idp>/lifecycle.json``) holds what one IdP
sends over a whole lifecycle, request by request, in its own shapes and
headers, and after each step what the resources must look like::

    {
      "idp": "okta",                       # what scimgate.model.idp must detect
      "source": "...",                     # where the shapes come from
      "headers": {"User-Agent": "...", "Content-Type": "application/scim+json"},
      "steps": [
        {
          "name": "create the user",
          "request": {"method": "POST", "path": "/Users", "body": {...},
                      "headers": {"User-Agent": null}},   # per step; null drops one
          "status": 201,                   # or a list of accepted statuses
          "response": {"active": true},    # subset of the response body
          "resources": ["{{alice.id}}"],   # ids a list response holds, in any order
          "capture": "alice",              # keep the response body as "alice"
          "state": [                       # then GET and compare what is stored
            {"get": "/Users/{{alice.id}}", "status": 200,
             "expect": {"name": {"givenName": "Alice"}},   # nested subset
             "values": {"groups": ["{{eng.id}}"]},         # the set of item values
             "absent": ["password", "urn:...:User/employeeNumber"]}
          ]
        }
      ]
    }

``{{name.key}}`` anywhere in a path, body, header or expectation is replaced
by ``key`` of the body captured as ``name``. Subset matching: a dict matches
when every key it gives matches (recursively); lists and scalars compare
exactly. Paths in ``absent`` separate levels with ``/`` (URNs hold dots).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
from starlette.testclient import TestClient

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
IDPS = ("okta", "entra", "google", "onelogin", "jumpcloud", "ping")
_PLACEHOLDER = re.compile(r"\{\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_$]+)*)\}\}")
_MISSING: Any = object()


def load_sample(idp: str) -> dict[str, Any]:
    sample: dict[str, Any] = json.loads(
        (SAMPLES / idp / "lifecycle.json").read_text(encoding="utf-8")
    )
    return sample


@dataclass
class StepResult:
    name: str
    method: str
    path: str
    status: int


@dataclass
class Replayer:
    """Sends a sample's requests to one tenant's SCIM base with its token."""

    http: TestClient
    base: str  # "/scim/v2/<tenant>"
    token: str
    captured: dict[str, Any] = field(default_factory=dict)

    def run(self, sample: Mapping[str, Any]) -> list[StepResult]:
        results = []
        for index, step in enumerate(sample["steps"]):
            where = f"{sample['idp']} step {index + 1} ({step['name']})"
            results.append(self._step(sample.get("headers", {}), step, where))
        return results

    # -- one step ---------------------------------------------------------------------

    def _step(self, defaults: Mapping[str, Any], step: Mapping[str, Any], where: str) -> StepResult:
        request = step["request"]
        method = request["method"]
        path = self.substitute(request["path"])
        response = self.send(method, path, defaults, request)
        _check_status(response, step.get("status", 200), where)
        body = response.json() if response.content else None
        if "response" in step:
            expected = self.substitute(step["response"])
            assert_subset(body, expected, f"{where}: response")
        if "resources" in step:
            assert isinstance(body, dict), f"{where}: not a ListResponse: {body!r}"
            found = {r["id"] for r in body.get("Resources", [])}
            wanted = set(self.substitute(step["resources"]))
            assert found == wanted, f"{where}: list holds {found}, expected {wanted}"
        if "capture" in step:
            assert isinstance(body, dict), f"{where}: nothing to capture: {response.status_code}"
            self.captured[step["capture"]] = body
        for check in step.get("state", []):
            self._check_state(defaults, check, where)
        return StepResult(step["name"], method, path, response.status_code)

    def send(
        self, method: str, path: str, defaults: Mapping[str, Any], request: Mapping[str, Any]
    ) -> httpx.Response:
        headers = {**defaults, **request.get("headers", {})}
        sent = {k: self.substitute(v) for k, v in headers.items() if v is not None}
        sent["Authorization"] = f"Bearer {self.token}"
        content = None
        if "body" in request:
            content = json.dumps(self.substitute(request["body"])).encode()
        elif "raw" in request:
            content = request["raw"].encode()
        return self.http.request(method, self.base + path, content=content, headers=sent)

    def _check_state(
        self, defaults: Mapping[str, Any], check: Mapping[str, Any], where: str
    ) -> None:
        path = self.substitute(check["get"])
        where = f"{where}: GET {path}"
        reader = {k: v for k, v in defaults.items() if k.lower() != "content-type"}
        response = self.send("GET", path, reader, {})
        _check_status(response, check.get("status", 200), where)
        if response.status_code != 200:
            return
        body = response.json()
        if "expect" in check:
            assert_subset(body, self.substitute(check["expect"]), where)
        for name, wanted in self.substitute(check.get("values", {})).items():
            found = {item.get("value") for item in body.get(name, [])}
            assert found == set(wanted), f"{where}: {name} hold {found}, expected {set(wanted)}"
        for dotted in check.get("absent", []):
            assert _lookup(body, dotted.split("/")) is _MISSING, f"{where}: {dotted} is present"

    # -- placeholders ----------------------------------------------------------------

    def substitute(self, value: Any) -> Any:
        if isinstance(value, str):
            whole = _PLACEHOLDER.fullmatch(value)
            if whole is not None:
                return self._resolve(whole)
            return _PLACEHOLDER.sub(lambda m: str(self._resolve(m)), value)
        if isinstance(value, list):
            return [self.substitute(item) for item in value]
        if isinstance(value, dict):
            return {self.substitute(k): self.substitute(v) for k, v in value.items()}
        return value

    def _resolve(self, match: re.Match[str]) -> Any:
        name, keys = match.group(1), match.group(2)
        assert name in self.captured, f"nothing captured as {name!r} yet"
        found = _lookup(self.captured[name], [k for k in keys.split(".") if k])
        assert found is not _MISSING, f"{match.group(0)} is not in the captured body"
        return found


def _check_status(response: httpx.Response, expected: int | list[int], where: str) -> None:
    accepted = expected if isinstance(expected, list) else [expected]
    assert response.status_code in accepted, (
        f"{where}: status {response.status_code}, expected {accepted}: {response.text}"
    )


def _lookup(body: Any, keys: list[str]) -> Any:
    for key in keys:
        if not isinstance(body, dict) or key not in body:
            return _MISSING
        body = body[key]
    return body


def assert_subset(actual: Any, expected: Any, where: str) -> None:
    """``actual`` holds everything ``expected`` gives (dicts recursively)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: expected an object, got {actual!r}"
        for key, value in expected.items():
            assert key in actual, f"{where}: {key!r} missing from {actual!r}"
            assert_subset(actual[key], value, f"{where}.{key}")
        return
    assert actual == expected, f"{where}: {actual!r} != {expected!r}"
