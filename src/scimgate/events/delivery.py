"""One HTTP POST to a receiver, and the retry schedule after a failed one.

The connection goes only where the egress rule (``service.egress``) allows,
through ``service.egress_transport``: the name is resolved once per
connection, every address is checked, and the socket is opened to a checked
address. The URL, the ``Host`` header and TLS (SNI and certificate check
against the name) stay as they are, so a receiver sees an ordinary request,
and a name re-pointed at an internal address after the webhook was created
(DNS rebinding) is refused rather than reached.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import httpx

from scimgate.service.egress import EgressPolicy, HostRefused
from scimgate.service.egress_transport import CheckedTransport

USER_AGENT = "scimgate-webhooks"
# A receiver's answer is not used; read a little of it so the connection can
# be reused, never enough for a hostile receiver to make us buffer much.
_MAX_RESPONSE_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    status_code: int | None = None
    error: str | None = None


def backoff_seconds(attempts: int, base: float, cap: float, rng: random.Random) -> float:
    """Delay before the next try after ``attempts`` failures: exponential with full jitter.

    Uniform in [0, min(cap, base * 2**(attempts-1))]: spreading retries over
    the whole window keeps many webhooks that failed together (a receiver's
    outage) from retrying in lock-step when it comes back.
    """
    exponent = min(max(attempts - 1, 0), 62)
    return rng.uniform(0.0, min(cap, base * float(2**exponent)))


def _describe(exc: Exception) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Sender:
    """Posts signed bodies; a non-2xx answer, a timeout or a network error is a failure.

    Redirects are not followed: a receiver answers where it was registered.
    A host the egress policy refuses is a failure too (``refused: ...``), so
    it is retried and recorded like any other.
    """

    def __init__(
        self,
        timeout: float,
        transport: httpx.BaseTransport | None = None,
        egress: EgressPolicy | None = None,
    ) -> None:
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout),
            transport=transport or CheckedTransport(egress or EgressPolicy()),
            follow_redirects=False,
            headers={"user-agent": USER_AGENT},
        )

    def send(self, url: str, body: str, headers: dict[str, str]) -> Outcome:
        try:
            with self._client.stream("POST", url, content=body.encode(), headers=headers) as reply:
                status = reply.status_code
                read = 0
                for chunk in reply.iter_bytes():
                    read += len(chunk)
                    if read > _MAX_RESPONSE_BYTES:
                        break
        except HostRefused as exc:
            return Outcome(ok=False, error=f"refused: {exc}")
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return Outcome(ok=False, error=_describe(exc))
        if 200 <= status < 300:
            return Outcome(ok=True, status_code=status)
        return Outcome(ok=False, status_code=status, error=f"HTTP {status}")

    def close(self) -> None:
        self._client.close()
