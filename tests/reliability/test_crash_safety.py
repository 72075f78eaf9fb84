"""kill -9 under load: what was acknowledged survives, nothing is half-applied, the outbox agrees.

Each client thread owns its users, so for every user there is at most one
request in flight when the server dies; its outcome is unknown, everything
acknowledged before it is known.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx2

from scimgate.storage.database import Database
from tests.reliability.conftest import (
    GROUP,
    LiveTenant,
    Server,
    patch_body,
    running_server,
    scaled,
    user_body,
)

THREADS = 4


@dataclass
class Ledger:
    """What one client thread sent and what the server acknowledged."""

    created: list[str] = field(default_factory=list)
    patched: dict[str, list[str]] = field(default_factory=dict)
    pending_patch: dict[str, str] = field(default_factory=dict)
    added: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)


def _client_thread(
    http: httpx2.Client, n: int, group_id: str, ledger: Ledger, stop: threading.Event
) -> None:
    i = 0
    try:
        while not stop.is_set() and i < scaled(400):
            i += 1
            created = http.post("/Users", json=user_body(f"crash-{n}-{i}"))
            if created.status_code != 201:
                ledger.unexpected.append(f"create: {created.status_code} {created.text}")
                return
            user_id = created.json()["id"]
            ledger.created.append(user_id)
            # Both attributes in one PATCH: after a crash both or neither hold the value.
            target = ledger.created[i % len(ledger.created)]
            value = f"v-{n}-{i}"
            ledger.pending_patch[target] = value
            op = {"op": "replace", "value": {"title": value, "displayName": value}}
            patched = http.patch(f"/Users/{target}", json=patch_body(op))
            if patched.status_code not in (200, 204):
                ledger.unexpected.append(f"patch: {patched.status_code} {patched.text}")
                return
            del ledger.pending_patch[target]
            ledger.patched.setdefault(target, []).append(value)
            add = {"op": "add", "path": "members", "value": [{"value": user_id}]}
            member = http.patch(f"/Groups/{group_id}", json=patch_body(add))
            if member.status_code not in (200, 204):
                ledger.unexpected.append(f"member: {member.status_code} {member.text}")
                return
            ledger.added.append(user_id)
    except httpx2.TransportError:
        return  # the server died mid-request: that request's outcome is unknown


def _load_then_kill(server: Server, acme: LiveTenant, group_id: str) -> list[Ledger]:
    ledgers = [Ledger() for _ in range(THREADS)]
    stop = threading.Event()
    clients = [acme.client(server, timeout=5) for _ in range(THREADS)]
    threads = [
        threading.Thread(target=_client_thread, args=(c, n, group_id, ledger, stop))
        for n, (c, ledger) in enumerate(zip(clients, ledgers, strict=True))
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 5 * min(SCALE_TIME, 12)
    while time.monotonic() < deadline:
        if sum(len(ledger.added) for ledger in ledgers) >= scaled(40):
            break
        time.sleep(0.02)
    server.process.kill()  # SIGKILL: no shutdown hook runs
    server.process.wait()
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    for http in clients:
        http.close()
    return ledgers


SCALE_TIME = max(1, scaled(1))


def _all_users(http: httpx2.Client) -> dict[str, dict[str, object]]:
    found: dict[str, dict[str, object]] = {}
    start = 1
    while True:
        page = http.get("/Users", params={"startIndex": start, "count": 500}).json()
        found.update({u["id"]: u for u in page["Resources"]})
        start += len(page["Resources"])
        if not page["Resources"] or start > page["totalResults"]:
            return found


def test_acknowledged_changes_survive_a_kill_and_the_outbox_matches(
    database_url: str,
    db: Database,
    live_tenant: Callable[[str], LiveTenant],
    tmp_path: Path,
) -> None:
    acme = live_tenant("acme")
    log = tmp_path / "server.log"
    with running_server(database_url, log) as server, acme.client(server) as http:
        made = http.post("/Groups", json={"schemas": [GROUP], "displayName": "Everyone"})
        group_id = made.json()["id"]
        ledgers = _load_then_kill(server, acme, group_id)
    assert not [u for ledger in ledgers for u in ledger.unexpected]
    assert sum(len(ledger.added) for ledger in ledgers) > 0, "the load never got going"

    with running_server(database_url, log) as server, acme.client(server) as http:
        users = _all_users(http)
        members = {m["value"] for m in http.get(f"/Groups/{group_id}").json().get("members", [])}
    with db.tenant(acme.tenant.id) as repo:
        events = repo.events.after(0, 1_000_000)

    created_events = Counter(e.resource_id for e in events if e.type == "user.created")
    updated_events = Counter(e.resource_id for e in events if e.type == "user.updated")
    added_events = Counter(e.data["member"]["id"] for e in events if e.type == "group.member_added")
    # Every user that exists was created exactly once, in the outbox too; no event is orphaned.
    assert created_events == Counter(users.keys())
    assert Counter(members) == added_events
    for ledger in ledgers:
        assert set(ledger.created) <= users.keys()
        assert set(ledger.added) <= members
        for user_id, values in ledger.patched.items():
            user = users[user_id]
            assert user.get("title") == user.get("displayName"), user  # both or neither
            pending = ledger.pending_patch.get(user_id)
            assert user["title"] in (values[-1], pending)
            committed = len(values) + (user["title"] == pending)
            assert updated_events[user_id] == committed, user_id
    for user in users.values():
        assert user.get("title") == user.get("displayName"), user
    output = log.read_text(errors="replace")
    assert "Uvicorn running" in output  # the log was captured at all
    assert acme.token not in output
    assert "sgt_" not in output
