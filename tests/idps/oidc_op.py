"""A real OpenID Provider for the tests: panva's ``oidc-provider`` under node.

``running_op(clients, users)`` starts ``tests/idps/oidc_provider/op.mjs`` on a
free 127.0.0.1 port with a fresh RSA signing key, waits for its READY line and
stops it afterwards. ``sign_in(op, url, user)`` plays the browser through the
provider's built-in login and consent pages and returns the URL the provider
redirects to (the relying party's callback with ``code`` and ``state``).

Without node and npm the tests skip, saying so, unless
``SCIMGATE_TEST_REQUIRE_SSO_IDPS=1`` (set by CI), which makes that a failure.
``npm ci`` runs here when ``node_modules`` is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest
from joserfc.jwk import RSAKey

OP_DIR = Path(__file__).resolve().parent / "oidc_provider"
REQUIRE_IDPS = os.environ.get("SCIMGATE_TEST_REQUIRE_SSO_IDPS") == "1"
_READY_TIMEOUT = 30.0
_npm_lock = threading.Lock()

USERS: dict[str, dict[str, Any]] = {
    "alice": {
        "email": "alice@example.test",
        "email_verified": True,
        "name": "Alice Liddell",
        "given_name": "Alice",
        "family_name": "Liddell",
        "groups": ["scim-admins", "engineering"],
    },
    "bob": {"email": "bob@example.test", "email_verified": True, "groups": ["readers"]},
    # Put someone else's address on her account, which the provider did not verify.
    "mallory": {"email": "carol@example.test", "email_verified": False, "groups": ["readers"]},
}


@dataclass(frozen=True)
class RunningOp:
    issuer: str
    signing_key: RSAKey  # the provider's own key (private), to sign tokens it would never issue
    config_path: Path | None = None

    def set_user(self, user: str, claims: Mapping[str, Any]) -> None:
        """What the provider asserts of ``user`` from the next sign-in on."""
        assert self.config_path is not None, "a provider started by running_op"
        config = json.loads(self.config_path.read_text())
        config["users"][user] = dict(claims)
        # Replaced in one rename: the provider reads the old file or the new one.
        staged = self.config_path.with_suffix(".tmp")
        staged.write_text(json.dumps(config))
        os.replace(staged, self.config_path)

    @property
    def kid(self) -> str:
        return str(self.signing_key.kid)


def _unavailable(reason: str) -> None:
    if REQUIRE_IDPS:
        pytest.fail(f"the OIDC test provider is required but {reason}")
    pytest.skip(f"OIDC test provider unavailable: {reason}")


def _ensure_installed() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        _unavailable("node and npm are not installed (Debian: apt-get install nodejs npm)")
    with _npm_lock:
        if (OP_DIR / "node_modules" / "oidc-provider").is_dir():
            return
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=OP_DIR,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            _unavailable(f"`npm ci` in {OP_DIR.name} failed: {done.stderr.strip()[-500:]}")


def registered_client(
    client_id: str,
    secret: str,
    redirect_uris: Sequence[str],
    auth_method: str = "client_secret_basic",
) -> dict[str, Any]:
    """One registered client of the test provider."""
    return {
        "client_id": client_id,
        "client_secret": secret,
        "redirect_uris": list(redirect_uris),
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
        "token_endpoint_auth_method": auth_method,
    }


def _read_ready(process: subprocess.Popen[str]) -> str:
    found: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("READY "):
                found.append(line.split(" ", 1)[1].strip())
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(_READY_TIMEOUT)
    if not found:
        raise RuntimeError("oidc-provider did not print READY")
    return found[0]


@contextmanager
def running_op(
    clients: Sequence[Mapping[str, Any]],
    tmp_dir: Path,
    users: Mapping[str, Mapping[str, Any]] = USERS,
    *,
    conform_id_token_claims: bool = False,
) -> Iterator[RunningOp]:
    _ensure_installed()
    key = RSAKey.generate_key(2048, parameters={"kid": "op-key-1", "use": "sig", "alg": "RS256"})
    config = {
        "clients": list(clients),
        "users": dict(users),
        "jwks": {"keys": [key.as_dict(private=True)]},
        "conformIdTokenClaims": conform_id_token_claims,
    }
    config_path = tmp_dir / "op-config.json"
    config_path.write_text(json.dumps(config))
    log = (tmp_dir / "op.log").open("w")
    process = subprocess.Popen(
        ["node", "op.mjs", str(config_path)],
        cwd=OP_DIR,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        issuer = _read_ready(process)
        yield RunningOp(issuer=issuer, signing_key=key, config_path=config_path)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
        log.close()


_ACTION = re.compile(r'<form[^>]*action="([^"]+)"[^>]*method="post"', re.IGNORECASE)
_PROMPT = re.compile(r'name="prompt" value="([a-z]+)"')


def sign_in(op: RunningOp, authorization_url: str, user: str, stop_at: str) -> str:
    """Follow the provider's pages as a browser would, until a redirect to ``stop_at``.

    Returns that redirect's URL (the callback with ``code``, ``state`` and ``iss``).
    """
    with httpx.Client(timeout=10.0, follow_redirects=False) as browser:
        url = authorization_url
        for _ in range(12):
            if url.startswith(stop_at):
                return url
            response = browser.get(url)
            while response.is_redirect:
                url = urljoin(str(response.url), response.headers["location"])
                if url.startswith(stop_at):
                    return url
                response = browser.get(url)
            url = _submit(browser, response, user)
    raise AssertionError(f"no redirect to {stop_at} from {op.issuer}")


def _submit(browser: httpx.Client, page: httpx.Response, user: str) -> str:
    action, prompt = _ACTION.search(page.text), _PROMPT.search(page.text)
    if action is None or prompt is None:
        raise AssertionError(f"unexpected page from the provider ({page.status_code}): {page.text}")
    form = {"prompt": prompt.group(1)}
    if prompt.group(1) == "login":
        form |= {"login": user, "password": "any"}
    posted = browser.post(urljoin(str(page.url), action.group(1)), data=form)
    assert posted.is_redirect, posted.text
    return urljoin(str(posted.url), posted.headers["location"])
