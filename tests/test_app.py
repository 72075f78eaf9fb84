import pytest
from starlette.testclient import TestClient

from scimgate.app import create_app
from scimgate.config import InsecureSettings, Settings
from scimgate.service.audit import AuditRecorder
from scimgate.storage.database import Database


def test_healthz_answers_while_the_process_is_up(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_the_database(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_readyz_reports_an_unreachable_database(tmp_path: object) -> None:
    settings = Settings(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none", dev_mode=True)
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


@pytest.mark.parametrize("secret", ["", "change-me", "dev-insecure-secret-key"])
def test_a_placeholder_secret_key_is_refused_outside_dev_mode(secret: str) -> None:
    with pytest.raises(InsecureSettings):
        create_app(Settings(secret_key=secret, dev_mode=False))


def test_a_real_secret_key_is_accepted() -> None:
    create_app(Settings(secret_key="x" * 40, dev_mode=False))


def test_a_failed_start_closes_what_had_started(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: AuditRecorder) -> AuditRecorder:
        raise RuntimeError("the audit recorder cannot start")

    monkeypatch.setattr(AuditRecorder, "start", refuse)
    opened: list[object] = []
    real_open = Database.open_awaited_reads

    async def open_and_note(self: Database) -> None:
        await real_open(self)
        opened.extend(self._awaited.values())

    monkeypatch.setattr(Database, "open_awaited_reads", open_and_note)
    with (
        pytest.raises(RuntimeError, match="cannot start"),
        TestClient(create_app(settings, database=db)),
    ):
        pass
    # On PostgreSQL the awaited reads' pool was open, and is closed again.
    assert len(opened) == (1 if db.dialect == "postgresql" else 0)
    assert all(getattr(pool, "closed", True) for pool in opened)
    assert db._awaited == {}
