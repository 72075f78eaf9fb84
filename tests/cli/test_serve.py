"""``scimgate serve``: the options reach the server's settings."""

from __future__ import annotations

import os

import pytest

from scimgate.cli import serve
from scimgate.config import Settings
from tests.cli.conftest import Cli


def test_serve_with_worker_turns_the_worker_on(run: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[Settings] = []
    monkeypatch.setattr(serve, "_serve", lambda settings, *args: served.append(settings))
    # setenv, unlike delenv of an unset name, has the variable the command sets removed afterwards
    monkeypatch.setenv("SCIMGATE_RUN_WORKER", "0")
    assert run("serve").exit_code == 0
    assert run("serve", "--with-worker", "--workers", "2").exit_code == 0
    assert [s.run_worker for s in served] == [False, True]
    # processes started by --workers read the environment
    assert os.environ["SCIMGATE_RUN_WORKER"] == "1"
