"""SQLite's online backup, as docs/how-to/backup-and-restore.md gives it, of a database a
server is writing to: the restored copy passes ``scimgate db check`` with the source's counts."""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.cli.conftest import Cli
from tests.live import live_server
from tests.scim.contract import USER_SCHEMA

pytestmark = pytest.mark.parametrize("blank_database", ["sqlite"], indirect=True)


def _backup(source: Path, target: Path) -> None:
    """What ``sqlite3 source ".backup target"`` does."""
    with sqlite3.connect(source) as live, sqlite3.connect(target) as copy:
        live.backup(copy)
    live.close()
    copy.close()


def _vacuum_into(source: Path, target: Path) -> None:
    live = sqlite3.connect(source)
    try:
        live.execute("VACUUM INTO ?", (str(target),))
    finally:
        live.close()


def _restore_and_check(backup: Path, restored: Path) -> dict[str, Any]:
    """Restore as the how-to does (a copy of the file, no WAL beside it) and check it."""
    shutil.copyfile(backup, restored)
    result = Cli(f"sqlite:///{restored}")("db", "check", "--json")
    assert result.exit_code == 0, result.output
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def test_online_backups_taken_during_writes_restore_to_a_sound_database(
    migrated_url: str, tmp_path: Path
) -> None:
    source = Path(migrated_url.removeprefix("sqlite:///"))
    run = Cli(migrated_url)
    run("tenant", "create", "acme")
    token = run.json("token", "create", "acme", "--json")["token"]
    stop = threading.Event()
    written: list[int] = []

    with live_server(migrated_url) as server:

        def write() -> None:
            with httpx2.Client(headers={"Authorization": f"Bearer {token}"}) as client:
                n = 0
                while not stop.is_set() and n < 200:
                    response = client.post(
                        f"{server.scim_url('acme')}/Users",
                        json={"schemas": [USER_SCHEMA], "userName": f"user{n}"},
                        timeout=10,
                    )
                    assert response.status_code == 201, response.text
                    n += 1
                    written.append(n)

        writer = threading.Thread(target=write)
        writer.start()
        try:
            while len(written) < 5:
                stop.wait(0.05)
            _backup(source, tmp_path / "during.db")
            _vacuum_into(source, tmp_path / "during-vacuum.db")
        finally:
            stop.set()
            writer.join(30)
        _backup(source, tmp_path / "after.db")
        _vacuum_into(source, tmp_path / "after-vacuum.db")
        expected = run.json("db", "check", "--json")

    for name in ("during", "during-vacuum"):
        copy = _restore_and_check(tmp_path / f"{name}.db", tmp_path / f"{name}-restored.db")
        assert copy["ok"] is True
        assert 5 <= copy["tenants"][0]["users"] <= len(written)
    for name in ("after", "after-vacuum"):
        copy = _restore_and_check(tmp_path / f"{name}.db", tmp_path / f"{name}-restored.db")
        assert copy == expected
        assert copy["tenants"][0]["users"] == len(written)
