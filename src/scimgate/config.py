"""Settings: one typed class, read from ``SCIMGATE_*`` environment variables.

There is no module-level instance: ``Settings()`` is built by the CLI (or a
test) and handed to ``create_app``.
"""

from __future__ import annotations

import ipaddress
from ipaddress import ip_network
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "secret", "dev-insecure-secret-key"})
DEV_SECRET_KEY = "dev-insecure-secret-key"  # noqa: S105 -- refused outside dev mode


class InsecureSettings(ValueError):
    """The settings are not safe to serve with."""


class Settings(BaseSettings):
    """scimgate's configuration. Every field is documented in docs/reference/settings.md."""

    model_config = SettingsConfigDict(env_prefix="SCIMGATE_", extra="ignore")

    database_url: str = "sqlite:///./data/scimgate.db"
    public_url: str = "http://127.0.0.1:8000"
    secret_key: SecretStr = SecretStr(DEV_SECRET_KEY)
    dev_mode: bool = False
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    db_pool_size: int = Field(default=10, ge=1, le=200)
    # Request limits, advertised in /ServiceProviderConfig where SCIM defines them.
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_results: int = Field(default=1000, ge=1)
    default_page_size: int = Field(default=100, ge=1)
    max_bulk_operations: int = Field(default=1000, ge=1)
    max_patch_operations: int = Field(default=1000, ge=1)
    max_filter_length: int = Field(default=4096, ge=64)
    # Seconds a client has to send a whole request body once the headers are in;
    # past it the request gets 408 and the connection is closed (slow-body clients).
    body_timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    # A token's last_used_at is written at most once per this many seconds.
    token_touch_interval_seconds: int = Field(default=60, ge=1)
    # Requests per second per SCIM token (0: no limit), a token bucket per
    # worker process; the burst defaults to one second's worth.
    rate_limit_per_second: float = Field(default=0.0, ge=0)
    rate_limit_burst: int = Field(default=0, ge=0)
    # Webhook delivery (docs/how-to/receive-webhooks.md). ``run_worker`` runs
    # the worker inside ``serve`` (one per process; leases keep them apart).
    run_worker: bool = False
    worker_poll_interval_seconds: float = Field(default=1.0, gt=0, le=60)
    webhook_max_attempts: int = Field(default=12, ge=1, le=100)
    webhook_backoff_base_seconds: float = Field(default=10.0, gt=0)
    webhook_backoff_cap_seconds: float = Field(default=3600.0, gt=0)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # A hole in the event sequence younger than this may be a transaction
    # still committing (PostgreSQL); delivery waits for it rather than skip it.
    webhook_gap_seconds: float = Field(default=30.0, gt=0, le=3600)

    # Audit log and provisioning status (docs/how-to/admin-console.md).
    audit_retention_days: int = Field(default=90, ge=0)  # 0 keeps entries forever
    idle_after_hours: float = Field(default=72.0, gt=0)

    # Hostile clients (docs/how-to/deploy.md): uvicorn's cap on connections plus
    # requests in progress per process, 503 past it; 0 leaves it off.
    limit_concurrency: int = Field(default=0, ge=0)

    # Webhook egress (docs/how-to/receive-webhooks.md): webhooks, and the calls to
    # an OIDC IdP, reach public addresses only, unless private ones are allowed,
    # all or by network.
    webhook_allow_private: bool = False
    webhook_allowed_cidrs: str = ""

    @field_validator("webhook_allowed_cidrs")
    @classmethod
    def _check_cidrs(cls, value: str) -> str:
        for item in value.split(","):
            if item.strip():
                ip_network(item.strip(), strict=False)  # a ValueError names the bad one
        return value

    # Admin console sessions and sign-in throttling (docs/how-to/admin-console.md).
    admin_session_idle_minutes: int = Field(default=30, ge=1)
    admin_session_max_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    admin_login_failures_per_ip: int = Field(default=20, ge=1)
    admin_login_window_minutes: int = Field(default=15, ge=1)
    # Comma-separated CIDRs of the reverse proxies whose X-Forwarded-For is believed;
    # empty: the console throttles by the connecting address.
    trusted_proxies: str = ""

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: str) -> str:
        for cidr in filter(None, (part.strip() for part in value.split(","))):
            ipaddress.ip_network(cidr, strict=False)  # ValueError names the bad entry
        return value

    @property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        parts = (part.strip() for part in self.trusted_proxies.split(","))
        return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in parts if cidr)

    def client_address(self, peer: str, forwarded_for: str) -> str:
        """The address that sent a request: the connecting ``peer``, or, when that peer is
        a trusted proxy, the right-most ``X-Forwarded-For`` entry no trusted proxy added."""
        proxies = self.trusted_proxy_networks
        if not proxies or not _within(peer, proxies):
            return peer
        for address in reversed([a.strip() for a in forwarded_for.split(",")]):
            inside = _within(address, proxies)
            if inside is None:  # not an address: nothing left of it can be believed
                return peer
            if not inside:
                return address
            peer = address
        return peer

    # Single sign-on (docs/how-to/single-sign-on.md): the host app's redirect URIs,
    # comma-separated and compared exactly, and how long a one-time code lives.
    sso_redirect_uris: str = ""
    sso_code_ttl_seconds: int = Field(default=60, ge=5, le=600)
    # The worker fetches a SAML connection's IdP metadata URL again at most this
    # often, and at most SSO_METADATA_REFRESH_BATCH connections per housekeeping pass.
    sso_metadata_refresh_hours: int = Field(default=24, ge=1, le=8760)
    sso_metadata_refresh_batch: int = Field(default=20, ge=0, le=1000)
    # Per client address, on the anonymous sign-in and setup-link routes
    # (service/ratelimit.py); 0 turns it off.
    sso_rate_limit_per_minute: int = Field(default=60, ge=0)
    sso_rate_limit_burst: int = Field(default=20, ge=1)

    # Secrets at rest (docs/how-to/rotate-secret-key.md): the keys SECRET_KEY had
    # before, comma-separated, so values sealed with them still open until
    # `scimgate secrets reseal` moves them to the current key.
    secret_key_previous: SecretStr = SecretStr("")

    def check_secret_key(self) -> None:
        """Refuse a placeholder secret outside dev mode (called when the server starts)."""
        if not self.dev_mode and self.secret_key.get_secret_value() in _PLACEHOLDER_SECRETS:
            raise InsecureSettings(
                "SCIMGATE_SECRET_KEY is unset or a placeholder; set a random value "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`) "
                "or SCIMGATE_DEV_MODE=1 for local development"
            )

    @property
    def public_base(self) -> str:
        return self.public_url.rstrip("/")

    def scim_base_url(self, tenant_slug: str) -> str:
        return f"{self.public_base}/scim/v2/{tenant_slug}"

    def previous_secret_keys(self) -> tuple[str, ...]:
        raw = self.secret_key_previous.get_secret_value()
        return tuple(key.strip() for key in raw.split(",") if key.strip())


def _within(
    address: str, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
) -> bool | None:
    """Whether ``address`` is in one of ``networks``; None when it is no IP address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    return any(ip in network for network in networks)
