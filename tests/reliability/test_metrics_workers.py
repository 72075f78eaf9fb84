"""``scimgate serve --workers 2``: ``/metrics`` on either worker counts the requests of both.

Which worker accepts a connection is the kernel's choice, so the test keeps
sending (in bounded rounds) until the access log shows both process ids
serving SCIM requests, then scrapes until both have answered a scrape.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families

from scimgate.observability import MULTIPROC_ENV
from tests.reliability.conftest import LiveTenant, Server, running_server

ROUND = 10
MAX_ROUNDS = 20


def _access_pids(server: Server, path: str) -> list[int]:
    """The process id of each access log line for ``path`` so far."""
    pids = []
    for line in server.output().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("logger") == "scimgate.access" and entry.get("path") == path:
            pids.append(entry["pid"])
    return pids


def _wait_for_lines(server: Server, path: str, count: int) -> list[int]:
    """The access lines are written just after the response goes out: wait for them (bounded)."""
    deadline = time.monotonic() + 30
    while True:
        pids = _access_pids(server, path)
        if len(pids) >= count:
            return pids
        if time.monotonic() > deadline or server.process.poll() is not None:
            raise AssertionError(f"{count} access lines for {path} never came:\n{server.output()}")
        time.sleep(0.05)


def _requests_counted(text: str, tenant: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "scimgate_requests"
        for sample in family.samples
        if sample.name == "scimgate_requests_total" and sample.labels.get("tenant") == tenant
    )


def _sweep_and_scrape(server: Server, acme: LiveTenant) -> None:
    users = f"{server.scim_url(acme.slug)}/Users"
    headers = {"Authorization": f"Bearer {acme.token}"}

    def one_request(_: int) -> int:
        # A connection of its own, so that either worker may accept it.
        return httpx2.get(users, headers=headers, timeout=10).status_code

    sent = 0
    with ThreadPoolExecutor(ROUND) as pool:
        for _ in range(MAX_ROUNDS):
            assert set(pool.map(one_request, range(ROUND))) == {200}
            sent += ROUND
            serving = _wait_for_lines(server, "/scim/v2/acme/Users", sent)
            if len(set(serving)) == 2:
                break
    assert len(set(serving)) == 2, f"every request went to one worker in {sent} requests"

    for scrapes in range(1, MAX_ROUNDS * ROUND + 1):
        text = httpx2.get(f"{server.base_url}/metrics", timeout=10).text
        assert _requests_counted(text, "acme") == sent, text
        if len(set(_wait_for_lines(server, "/metrics", scrapes))) == 2:
            break
    assert len(set(_access_pids(server, "/metrics"))) == 2, "one worker answered every scrape"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_metrics_add_up_over_two_workers(
    database_url: str,
    live_tenant: Callable[[str], LiveTenant],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(MULTIPROC_ENV, raising=False)
    acme = live_tenant("acme")
    with running_server(database_url, tmp_path / "server.log", workers=2) as server:
        _sweep_and_scrape(server, acme)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_operators_metrics_directory_is_cleared_of_an_earlier_run(
    database_url: str,
    live_tenant: Callable[[str], LiveTenant],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_4242.db").write_bytes(b"left by a process of an earlier run")
    (directory / "README").write_text("not a metrics file: kept")
    monkeypatch.setenv(MULTIPROC_ENV, str(directory))
    acme = live_tenant("acme")
    with running_server(database_url, tmp_path / "server.log", workers=2) as server:
        _sweep_and_scrape(server, acme)
    assert not (directory / "counter_4242.db").exists()
    assert (directory / "README").read_text() == "not a metrics file: kept"
