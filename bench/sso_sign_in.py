"""Single sign-on after the IdP: what one sign-in costs scimgate once the assertion is verified.

Times, through scimgate's own service code, on SQLite (or ``--database-url``):

* ``begin`` + ``take_pending``       the pending sign-in written, then taken back once
* ``complete_sign_in (JIT)``          a new person: matched by nobody, created, roles, events,
                                      audit row, one-time code
* ``complete_sign_in (returning)``    a known person with unchanged attributes and groups
* ``complete_sign_in (groups moved)`` a known person whose asserted groups change their role
* ``exchange_code``                   the host app's exchange for the profile

in a tenant that already holds ``--users`` users (so the email lookup runs on a real index).
The SAML/OIDC verification itself is measured by the adapters' benchmarks. Prints a table and
one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scimgate.config import Settings
from scimgate.model.sso import ExternalIdentity
from scimgate.service import roles, sso
from scimgate.service.tenants import create_tenant
from scimgate.storage.database import Database
from scimgate.storage.migrate import upgrade
from scimgate.storage.tables import users

HOST = "https://app.example.test/callback"
CLIENT = sso.ClientInfo("127.0.0.1", "bench")


def _seed(db: Database, tenant_id: int, size: int) -> None:
    now = datetime.now(UTC)
    with db.engine.begin() as conn:
        for start in range(0, size, 5_000):
            conn.execute(
                users.insert(),
                [
                    {
                        "id": str(uuid.uuid4()),
                        "tenant_id": tenant_id,
                        "user_name": f"seed{n}@example.com",
                        "user_name_lower": f"seed{n}@example.com",
                        "external_id": None,
                        "display_name": None,
                        "active": True,
                        "created": now,
                        "last_modified": now,
                        "version": 1,
                        "doc": {"userName": f"seed{n}@example.com", "active": True},
                        "enabled": True,
                    }
                    for n in range(start, min(start + 5_000, size))
                ],
            )


def _time(rounds: int, step: Callable[[int], object]) -> list[float]:
    found = []
    for n in range(rounds):
        started = time.perf_counter()
        step(n)
        found.append((time.perf_counter() - started) * 1000)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite:///{Path(scratch) / 'bench.db'}"
        upgrade(url)
        settings = Settings(database_url=url, dev_mode=True, sso_redirect_uris=HOST, _env_file=None)  # type: ignore[call-arg]
        db = Database.from_url(url)
        tenant = create_tenant(db, f"bench-{uuid.uuid4().hex[:8]}")
        _seed(db, tenant.id, args.users)
        roles.add_rule(db, tenant, "Admins", "tenant_admin")
        okta = sso.create_connection(
            db, tenant, {"name": "Okta", "protocol": "saml", "jit": True, "match_by": "email"}
        )
        results = _run(db, settings, tenant, okta, args.rounds)
        db.dispose()
    _report(results, args)


def _run(
    db: Database, settings: Settings, tenant: Any, okta: sso.Connection, rounds: int
) -> dict[str, list[float]]:
    codes: list[str] = []

    def person(n: int, groups: tuple[str, ...] = ()) -> ExternalIdentity:
        email = f"person{n}@example.com"
        return ExternalIdentity(subject=email, email=email, given_name="P", groups=groups)

    def pending(n: int) -> sso.Pending | None:
        ref = sso.new_protocol_ref()
        sso.begin(
            db,
            tenant,
            okta,
            redirect_uri=HOST,
            host_state="s",
            protocol_ref=ref,
            data={"nonce": "n"},
            settings=settings,
        )
        return sso.take_pending(db, tenant, okta, ref)

    def sign_in(who: ExternalIdentity) -> None:
        url = sso.complete_sign_in(
            db, tenant, okta, who, pending=None, client=CLIENT, settings=settings, relay_state=HOST
        )
        codes.append(url.split("code=")[1].split("&")[0])

    okta = sso.update_connection(db, tenant, okta.id, {"allow_idp_initiated": True})
    return {
        "begin + take_pending": _time(rounds, pending),
        "complete_sign_in (JIT)": _time(rounds, lambda n: sign_in(person(n))),
        "complete_sign_in (returning)": _time(rounds, lambda n: sign_in(person(n))),
        "complete_sign_in (groups moved)": _time(rounds, lambda n: sign_in(person(n, ("Admins",)))),
        "exchange_code": _time(
            rounds, lambda n: sso.exchange_code(db, codes[n], caller_tenant_id=tenant.id)
        ),
    }


def _report(results: dict[str, list[float]], args: argparse.Namespace) -> None:
    backend = "postgresql" if args.database_url else "sqlite"
    print(f"{'step':34} {'p50 ms':>8} {'p90 ms':>8}   ({backend}, {args.users} users)")
    figures = {}
    for name, samples in results.items():
        ordered = sorted(samples)
        p50 = statistics.median(ordered)
        p90 = ordered[int(len(ordered) * 0.9)]
        figures[name] = {"p50_ms": round(p50, 2), "p90_ms": round(p90, 2)}
        print(f"{name:34} {p50:8.2f} {p90:8.2f}")
    line = {"bench": "sso_sign_in", "backend": backend, "users": args.users, "steps": figures}
    print(json.dumps(line))


if __name__ == "__main__":
    main()
