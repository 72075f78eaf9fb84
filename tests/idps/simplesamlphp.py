"""SimpleSAMLphp (Debian's package) as a real SAML IdP on a free loopback port.

The configuration is written per port into a temporary folder (the entity id and
``baseurlpath`` carry the port), and ``register_sp`` rewrites the IdP's SP list,
which SimpleSAMLphp reads again on every request. ``login`` drives the IdP's own
login form with an HTTP client, as a browser would.
"""

from __future__ import annotations

import contextlib
import html
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
import pytest

from tests.idps.keys import KeyPair, make_key_pair
from tests.live import free_port

SSP_ROOT = Path("/usr/share/simplesamlphp")
TEMPLATES = Path(__file__).parent / "simplesamlphp"
REQUIRE = os.environ.get("SCIMGATE_TEST_REQUIRE_SSO_IDPS") == "1"

RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"

# The IdP's people (password: the name followed by "pass") and their attributes;
# the mail is also the NameID (saml20-idp-hosted.php).
USERS: dict[str, dict[str, list[str]]] = {
    "alice": {
        "uid": ["alice"],
        "mail": ["alice@example.test"],
        "givenName": ["Alice"],
        "sn": ["Liddell"],
        "groups": ["scim-admins", "engineering"],
    },
    "bob": {
        "uid": ["bob"],
        "mail": ["bob@example.test"],
        "givenName": ["Bob"],
        "sn": ["Builder"],
        "groups": ["readers"],
    },
}


def missing_reason() -> str | None:
    """Why SimpleSAMLphp cannot run here, or None when it can."""
    if shutil.which("php") is None:
        return "php is not installed (apt-get install php8.2-cli php8.2-xml php8.2-mbstring)"
    if not (SSP_ROOT / "www" / "saml2" / "idp" / "SSOService.php").exists():
        return "SimpleSAMLphp is not installed (apt-get install simplesamlphp)"
    return None


def skip_or_fail_without_simplesamlphp() -> None:
    reason = missing_reason()
    if reason is None:
        return
    if REQUIRE:
        pytest.fail(f"SCIMGATE_TEST_REQUIRE_SSO_IDPS=1 but {reason}")
    pytest.skip(reason)


@dataclass(frozen=True)
class IdpPost:
    """What the IdP's auto-submitting form would POST to the SP."""

    action: str
    saml_response: str
    relay_state: str | None


@dataclass
class SimpleSamlPhp:
    base_url: str
    root: Path
    keys: KeyPair
    _sps: dict[str, dict[str, object]] = field(default_factory=dict)
    users: dict[str, dict[str, list[str]]] = field(default_factory=lambda: dict(USERS))

    @property
    def entity_id(self) -> str:
        return f"{self.base_url}/saml2/idp/metadata.php"

    @property
    def metadata_url(self) -> str:
        return self.entity_id

    @property
    def sso_url(self) -> str:
        return f"{self.base_url}/saml2/idp/SSOService.php"

    def metadata_xml(self) -> str:
        return httpx2.get(self.metadata_url, timeout=10).raise_for_status().text

    def register_sp(
        self,
        entity_id: str,
        acs_url: str,
        *,
        cert_pem: str | None = None,
        sign_response: bool = True,
        sign_assertion: bool = True,
        encrypt: bool = False,
        signature_algorithm: str | None = None,
        validate_requests: bool = True,
    ) -> None:
        """Add or replace one SP; with ``cert_pem`` its AuthnRequests must be signed by it
        (unless not ``validate_requests``) and encrypted assertions are for it."""
        entry: dict[str, object] = {
            "AssertionConsumerService": acs_url,
            "NameIDFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            "saml20.sign.response": sign_response,
            "saml20.sign.assertion": sign_assertion,
            "assertion.encryption": encrypt,
        }
        if cert_pem is not None:
            entry["certData"] = _pem_body(cert_pem)
            entry["validate.authnrequest"] = validate_requests
        if signature_algorithm is not None:
            entry["signature.algorithm"] = signature_algorithm
        self._sps[entity_id] = entry
        lines = ["<?php"]
        for sp_id, values in self._sps.items():
            body = ", ".join(f"{_php(k)} => {_php(v)}" for k, v in values.items())
            lines.append(f"$metadata[{_php(sp_id)}] = [{body}];")
        # Replaced in one rename: a request in flight reads the old file or the new one.
        target = self.root / "metadata" / "saml20-sp-remote.php"
        staged = target.with_suffix(".tmp")
        staged.write_text("\n".join(lines) + "\n")
        os.replace(staged, target)

    def set_user(self, user: str, attributes: dict[str, list[str]]) -> None:
        """What the IdP asserts of ``user`` from the next login on (it reads the file
        at every request)."""
        self.users[user] = attributes
        _write_authsources(self.root, self.users)

    def set_name_id(self, attribute: str) -> None:
        """The attribute whose value the IdP puts in the NameID ("mail" at start)."""
        _write_hosted(self.root, self.base_url, attribute)

    def reset_users(self) -> None:
        """The people of ``USERS``, with the mail as NameID, as at start."""
        self.users = dict(USERS)
        _write_authsources(self.root, self.users)
        _write_hosted(self.root, self.base_url, "mail")

    def login(self, client: httpx2.Client, start_url: str, user: str, password: str) -> IdpPost:
        """Follow ``start_url`` to the IdP's login form, sign in, and return its POST."""
        page = client.get(start_url, follow_redirects=True)
        if "AuthState" in page.text:
            state = _hidden(page.text, "AuthState")
            page = client.post(
                str(page.url),
                data={"username": user, "password": password, "AuthState": state},
            )
        return _auto_post(page)

    def idp_initiated(
        self,
        client: httpx2.Client,
        sp_entity_id: str,
        user: str,
        password: str,
        relay_state: str | None = None,
    ) -> IdpPost:
        params = {"spentityid": sp_entity_id}
        if relay_state is not None:
            params["RelayState"] = relay_state
        url = str(httpx2.URL(self.sso_url, params=params))
        return self.login(client, url, user, password)


def _auto_post(page: httpx2.Response) -> IdpPost:
    if "SAMLResponse" not in page.text:
        raise AssertionError(
            f"the IdP answered {page.status_code} without a SAMLResponse:\n{page.text[:2000]}"
        )
    action = re.search(r'<form[^>]*action="([^"]+)"', page.text)
    assert action is not None
    relay = re.search(r'name="RelayState"\s+value="([^"]*)"', page.text)
    return IdpPost(
        action=html.unescape(action.group(1)),
        saml_response=_hidden(page.text, "SAMLResponse"),
        relay_state=html.unescape(relay.group(1)) if relay else None,
    )


def _hidden(text: str, name: str) -> str:
    match = re.search(rf'name="{name}"\s+value="([^"]*)"', text)
    if match is None:
        raise AssertionError(f"no {name} field in:\n{text[:2000]}")
    return html.unescape(match.group(1))


def _pem_body(pem: str) -> str:
    return "".join(line for line in pem.strip().splitlines() if "-----" not in line)


def _php(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def _php_list(values: list[str]) -> str:
    return "[" + ", ".join(_php(v) for v in values) + "]"


def _write_authsources(root: Path, users: dict[str, dict[str, list[str]]]) -> None:
    entries = [
        f"        {_php(f'{name}:{name}pass')} => ["
        + ", ".join(f"{_php(k)} => {_php_list(v)}" for k, v in attributes.items())
        + "],"
        for name, attributes in users.items()
    ]
    text = "\n".join(
        [
            "<?php",
            "$config = [",
            "    'admin' => ['core:AdminPassword'],",
            "    'example-userpass' => [",
            "        'exampleauth:UserPass',",
            *entries,
            "    ],",
            "];",
        ]
    )
    target = root / "config" / "authsources.php"
    staged = target.with_suffix(".tmp")
    staged.write_text(text + "\n")
    os.replace(staged, target)


def _write_hosted(root: Path, base_url: str, name_id_attribute: str) -> None:
    text = (TEMPLATES / "saml20-idp-hosted.php").read_text()
    text = text.replace("{entity_id}", f"{base_url}/saml2/idp/metadata.php")
    text = text.replace("{name_id_attribute}", name_id_attribute)
    target = root / "metadata" / "saml20-idp-hosted.php"
    staged = target.with_suffix(".tmp")
    staged.write_text(text)
    os.replace(staged, target)


def _write_config(root: Path, base_url: str, keys: KeyPair) -> None:
    for sub in ("config", "metadata", "cert", "log", "data", "tmp", "sessions"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    values = {
        "{base_url}": base_url,
        "{root}": str(root),
        "{entity_id}": f"{base_url}/saml2/idp/metadata.php",
        "{salt}": os.urandom(16).hex(),
        "{admin_password}": os.urandom(16).hex(),
    }
    text = (TEMPLATES / "config.php").read_text()
    for key, value in values.items():
        text = text.replace(key, value)
    (root / "config" / "config.php").write_text(text)
    _write_hosted(root, base_url, "mail")
    _write_authsources(root, USERS)
    (root / "metadata" / "saml20-sp-remote.php").write_text("<?php\n")
    (root / "cert" / "idp.crt").write_text(keys.cert_pem)
    (root / "cert" / "idp.key").write_text(keys.key_pem)


@contextmanager
def running_simplesamlphp(root: Path) -> Iterator[SimpleSamlPhp]:
    """Start SimpleSAMLphp under ``php -S`` on a free port until the block ends."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    keys = make_key_pair(f"idp.127.0.0.1.{port}.test")
    _write_config(root, base_url, keys)
    env = {
        **os.environ,
        "SIMPLESAMLPHP_CONFIG_DIR": str(root / "config"),
        "PHP_CLI_SERVER_WORKERS": "4",
    }
    log = (root / "log" / "php-server.log").open("wb")
    process = subprocess.Popen(
        [
            "php",
            # php's built-in server caches compiled files (Debian turns opcache on) and
            # looks at their timestamps only every 2 s: an SP registered just now would
            # be missing from the metadata the IdP reads.
            "-d",
            "opcache.enable=0",
            "-d",
            f"session.save_path={root / 'sessions'}",
            "-S",
            f"127.0.0.1:{port}",
            "-t",
            str(SSP_ROOT / "www"),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        # php forks its PHP_CLI_SERVER_WORKERS; they outlive a terminated parent unless
        # the whole process group is stopped.
        start_new_session=True,
    )
    idp = SimpleSamlPhp(base_url=base_url, root=root, keys=keys)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx2.get(idp.metadata_url, timeout=2).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "SimpleSAMLphp did not start: "
                    + (root / "log" / "php-server.log").read_text()[-2000:]
                )
            time.sleep(0.05)
        yield idp
    finally:
        _stop_group(process)
        log.close()


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """Stop php and its forked workers (its own process group), then wait until none is left."""
    group = process.pid
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    deadline = time.monotonic() + 10
    while True:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
            return
        time.sleep(0.05)
