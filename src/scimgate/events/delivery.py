"""One HTTP POST to a receiver, and the retry schedule after a failed one."""

from __future__ import annotations

import random
from dataclasses import dataclass

import httpx

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
    """

    def __init__(self, timeout: float, transport: httpx.BaseTransport | None = None) -> None:
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout),
            transport=transport,
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
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return Outcome(ok=False, error=_describe(exc))
        if 200 <= status < 300:
            return Outcome(ok=True, status_code=status)
        return Outcome(ok=False, status_code=status, error=f"HTTP {status}")

    def close(self) -> None:
        self._client.close()
