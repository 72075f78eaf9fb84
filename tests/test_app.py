import pytest
from starlette.testclient import TestClient

from scimgate.app import create_app
from scimgate.config import InsecureSettings, Settings


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
