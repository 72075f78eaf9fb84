"""``scimgate admin create``."""

from __future__ import annotations

from scimgate.service import admins
from scimgate.storage.database import Database
from tests.cli.conftest import Cli


def test_admin_create_prompts_for_a_password_and_stores_only_its_hash(
    run: Cli, db: Database
) -> None:
    run("tenant", "create", "acme")
    secret = "a long enough password"
    result = run(
        "admin", "create", "IT@Acme.example", "--tenant", "acme", stdin=f"{secret}\n{secret}\n"
    )
    assert result.exit_code == 0, result.output
    account = admins.authenticate(db, "it@acme.example", secret)
    assert account.tenant_id is not None
    assert secret not in account.password_hash
