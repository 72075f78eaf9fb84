"""The delivery worker: sends each webhook its events, one at a time, in order.

Per webhook, a cursor (``cursor_seq``) says which events are done. A cycle:

1. advance the *settled* seq (see ``storage.deliveries``): events above it
   may still be joined by earlier ones that have not committed yet;
2. find webhooks with work (queued redeliveries, or events of their tenant
   and types between their cursor and the settled seq), claim each one's
   lease, send queued redeliveries, then the events after the cursor, oldest
   first; each success moves the cursor and writes a ``delivered`` record;
3. a failure keeps the cursor where it is and puts the webhook in backoff;
   after ``max_attempts`` the event gets a ``failed`` record and the cursor
   moves past it, so one poisonous event cannot block a receiver forever.

Nothing here holds a database transaction while an HTTP request is in
flight, so a slow receiver never blocks a SCIM write (SQLite has one writer).
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx

from scimgate.config import Settings
from scimgate.events.delivery import Outcome, Sender, backoff_seconds
from scimgate.events.housekeeping import (
    check_connection_health,
    purge_audit_log,
    purge_soft_deleted,
    purge_sso_state,
    refresh_idp_metadata,
)
from scimgate.events.signing import event_body, signed_headers
from scimgate.service.clock import utcnow
from scimgate.service.egress import EgressPolicy
from scimgate.service.sealing import Keyring, UnsealError
from scimgate.storage.database import Database
from scimgate.storage.deliveries import DeliveryQueue, Target
from scimgate.storage.events import StoredEvent

logger = logging.getLogger("scimgate.events")

# Rows read per query while advancing the settled seq, and pages per cycle.
_SETTLE_PAGE = 1000
_SETTLE_PAGES = 20


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    max_attempts: int = 12
    backoff_base_seconds: float = 10.0
    backoff_cap_seconds: float = 3600.0
    timeout_seconds: float = 10.0
    poll_interval_seconds: float = 1.0
    gap_seconds: float = 30.0
    # Events sent per lease before the webhook is handed back (fairness between webhooks).
    batch_size: int = 100
    # Webhooks served at once by one worker; each is still served one event at a time.
    concurrency: int = 4
    housekeeping_interval_seconds: float = 60.0
    audit_retention_days: int = 90
    # Which addresses deliveries may connect to (public ones only by default).
    egress: EgressPolicy = field(default_factory=EgressPolicy)
    # SAML IdP metadata URLs: how often each is fetched again, how many per pass.
    sso_metadata_refresh_hours: int = 24
    sso_metadata_refresh_batch: int = 20

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkerOptions:
        return cls(
            max_attempts=settings.webhook_max_attempts,
            backoff_base_seconds=settings.webhook_backoff_base_seconds,
            backoff_cap_seconds=settings.webhook_backoff_cap_seconds,
            timeout_seconds=settings.webhook_timeout_seconds,
            poll_interval_seconds=settings.worker_poll_interval_seconds,
            gap_seconds=settings.webhook_gap_seconds,
            audit_retention_days=settings.audit_retention_days,
            egress=EgressPolicy.from_settings(settings),
            sso_metadata_refresh_hours=settings.sso_metadata_refresh_hours,
            sso_metadata_refresh_batch=settings.sso_metadata_refresh_batch,
        )

    @property
    def lease_seconds(self) -> float:
        # Renewed after every request; must outlast one request by a wide margin.
        return max(30.0, 3 * self.timeout_seconds + 10)


def _owner_id() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


class Worker:
    """Delivers events to webhooks. Safe to run in several processes on one database."""

    def __init__(
        self,
        db: Database,
        options: WorkerOptions | None = None,
        *,
        keyring: Keyring,
        transport: httpx.BaseTransport | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._db = db
        self._keyring = keyring
        self.options = options or WorkerOptions()
        self.owner = _owner_id()
        self.stopping = threading.Event()
        self._sender = Sender(self.options.timeout_seconds, transport, self.options.egress)
        self._rng = rng or random.Random()
        self._settled: int | None = None
        self._slugs: dict[int, str] = {}
        self._next_housekeeping = 0.0
        self._pool = ThreadPoolExecutor(
            max_workers=max(self.options.concurrency, 1), thread_name_prefix="scimgate-webhook"
        )

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._sender.close()

    def stop(self) -> None:
        """Finish the request in flight, then return from ``run``."""
        self.stopping.set()

    # -- the loop ------------------------------------------------------------------

    def run(self, *, max_seconds: float | None = None) -> None:
        """Deliver until ``stop()`` (or for ``max_seconds``); errors are logged, not raised."""
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        while not self.stopping.is_set():
            try:
                sent = self.run_once()
            except Exception:  # a database or network hiccup must not end the worker
                logger.exception("webhook delivery cycle failed")
                sent = 0
            pause = 0.0 if sent else self.options.poll_interval_seconds
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                pause = min(pause, left)
            if pause:
                self.stopping.wait(pause)

    def run_once(self) -> int:
        """Do what is due now: housekeeping if its time has come, then deliveries.

        Returns the number of HTTP requests made.
        """
        self._housekeep_if_due()
        now = utcnow()
        with self._db.directory() as directory:
            queue = directory.deliveries
            settled = self._advance_settled(queue, now)
            if settled is None:
                return 0
            busy: list[str] = []
            idle: list[tuple[str, int]] = []
            for candidate in queue.candidates(now):
                if candidate.has_pending:
                    busy.append(candidate.id)
                elif candidate.cursor_seq < settled:
                    if queue.has_events(candidate, settled):
                        busy.append(candidate.id)
                    else:
                        idle.append((candidate.id, candidate.cursor_seq))
        if idle:
            # Their cursors move over events they do not receive, so the next
            # cycle does not look at those again.
            with self._db.directory(write=True) as directory:
                directory.deliveries.skip_idle(idle, settled, now)
        if len(busy) <= 1:
            return sum(self._serve(webhook_id, settled) for webhook_id in busy)
        return sum(self._pool.map(lambda webhook_id: self._serve(webhook_id, settled), busy))

    def _advance_settled(self, queue: DeliveryQueue, now: datetime) -> int | None:
        floor = queue.min_cursor()
        if floor is None:
            self._settled = None  # no webhooks: nothing to deliver, nothing to track
            return None
        # No cursor will ever read at or below the lowest one, so the settled
        # seq may start there even if older holes never filled.
        self._settled = floor if self._settled is None else max(self._settled, floor)
        stale_before = now - timedelta(seconds=self.options.gap_seconds)
        for _page in range(_SETTLE_PAGES):
            self._settled, more = queue.settled_through(self._settled, stale_before, _SETTLE_PAGE)
            if not more:
                break
        return self._settled

    def _housekeep_if_due(self) -> None:
        moment = time.monotonic()
        if moment < self._next_housekeeping:
            return
        self._next_housekeeping = moment + self.options.housekeeping_interval_seconds
        purge_audit_log(self._db, utcnow(), self.options.audit_retention_days)
        removed = purge_soft_deleted(self._db, utcnow())
        if removed:
            logger.info("purged %d soft-deleted users past their grace period", removed)
        check_connection_health(self._db, utcnow())
        expired = purge_sso_state(self._db, utcnow())
        if expired:
            logger.info("purged %d expired single sign-on rows", expired)
        refresh_idp_metadata(self._db, utcnow(), self.options)

    # -- one webhook -----------------------------------------------------------------

    def _lease_end(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.options.lease_seconds)

    def _serve(self, webhook_id: str, settled: int) -> int:
        now = utcnow()
        with self._db.directory(write=True) as directory:
            target = directory.deliveries.claim(webhook_id, self.owner, now, self._lease_end(now))
        if target is None:
            return 0  # another worker got there first, or it just went into backoff
        try:
            sent, healthy = self._redeliver(target)
            if healthy and not self.stopping.is_set():
                sent += self._deliver(target, settled)
            return sent
        finally:
            with self._db.directory(write=True) as directory:
                directory.deliveries.release(target.id, self.owner)

    def _redeliver(self, target: Target) -> tuple[int, bool]:
        """Send queued redeliveries; (requests made, whether to go on with the cursor)."""
        with self._db.directory() as directory:
            queued = directory.deliveries.pending(target.id, self.options.batch_size)
        sent = 0
        for item in queued:
            if self.stopping.is_set():
                return sent, False
            outcome = self._send(target, item.event)
            sent += 1
            attempts = item.attempts + 1
            now = utcnow()
            with self._db.directory(write=True) as directory:
                queue = directory.deliveries
                if not queue.extend(target.id, self.owner, self._lease_end(now)):
                    return sent, False
                if outcome.ok or attempts >= self.options.max_attempts:
                    status = "delivered" if outcome.ok else "failed"
                    queue.update_redelivery(
                        item.delivery_id, status, attempts, outcome.status_code, outcome.error, now
                    )
                    continue
                queue.update_redelivery(
                    item.delivery_id, "pending", attempts, outcome.status_code, outcome.error, now
                )
                queue.postpone(
                    target.id,
                    self.owner,
                    target.attempts,
                    now + self._backoff(attempts),
                    outcome.error or "failed",
                )
            return sent, False
        return sent, True

    def _deliver(self, target: Target, settled: int) -> int:
        """Send the events after the cursor, in order, until one fails or the batch is done."""
        cursor, attempts, sent = target.cursor_seq, target.attempts, 0
        while sent < self.options.batch_size and not self.stopping.is_set():
            with self._db.directory() as directory:
                batch = directory.deliveries.next_events(
                    target, cursor, settled, self.options.batch_size - sent
                )
            if not batch:
                if cursor < settled:
                    with self._db.directory(write=True) as directory:
                        directory.deliveries.advance(
                            target.id, self.owner, settled, self._lease_end(utcnow())
                        )
                return sent
            for event in batch:
                if self.stopping.is_set():
                    return sent
                outcome = self._send(target, event)
                sent += 1
                attempts += 1
                if not self._settle_attempt(target, event, outcome, attempts):
                    return sent
                cursor, attempts = event.seq, 0
        return sent

    def _settle_attempt(
        self, target: Target, event: StoredEvent, outcome: Outcome, attempts: int
    ) -> bool:
        """Write down one attempt at the cursor's next event; True when the cursor moved."""
        now = utcnow()
        with self._db.directory(write=True) as directory:
            queue = directory.deliveries
            if outcome.ok or attempts >= self.options.max_attempts:
                if not queue.advance(target.id, self.owner, event.seq, self._lease_end(now)):
                    return False  # the lease was lost: the new holder sends it again
                status = "delivered" if outcome.ok else "failed"
                queue.record(
                    target.id, event.seq, status, attempts, outcome.status_code, outcome.error, now
                )
                if not outcome.ok:
                    logger.warning(
                        "webhook %s: gave up on event %s after %d attempts (%s)",
                        target.id,
                        event.id,
                        attempts,
                        outcome.error,
                    )
                return True
            queue.postpone(
                target.id,
                self.owner,
                attempts,
                now + self._backoff(attempts),
                outcome.error or "failed",
            )
            return False

    def _backoff(self, attempts: int) -> timedelta:
        delay = backoff_seconds(
            attempts,
            self.options.backoff_base_seconds,
            self.options.backoff_cap_seconds,
            self._rng,
        )
        return timedelta(seconds=delay)

    def _send(self, target: Target, event: StoredEvent) -> Outcome:
        body = event_body(event, self._slug(event.tenant_id))
        try:
            secret = self._keyring.open(target.secret)
        except UnsealError as exc:
            # Not the receiver's fault and not a crash: the attempt fails with the
            # cause, so the operator sees it in the delivery log.
            return Outcome(ok=False, error=f"cannot open the webhook secret: {exc}")
        try:
            headers = signed_headers(secret, event.id, body, utcnow())
        except ValueError as exc:
            return Outcome(ok=False, error=str(exc))
        return self._sender.send(target.url, body, headers)

    def _slug(self, tenant_id: int) -> str | None:
        if tenant_id not in self._slugs:
            with self._db.directory() as directory:
                self._slugs = directory.deliveries.tenant_slugs()
        return self._slugs.get(tenant_id)


class BackgroundWorker:
    """A Worker on a daemon thread, for ``serve --with-worker``."""

    def __init__(self, db: Database, options: WorkerOptions, keyring: Keyring) -> None:
        self.worker = Worker(db, options, keyring=keyring)
        self._thread = threading.Thread(
            target=self.worker.run, name="scimgate-webhook-worker", daemon=True
        )

    def start(self) -> BackgroundWorker:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.worker.stop()
        # A request in flight finishes within its timeout; do not wait longer.
        self._thread.join(self.worker.options.timeout_seconds + 5)
        if not self._thread.is_alive():
            self.worker.close()
