"""``scimgate worker``: webhook delivery in a process of its own (``serve --with-worker`` runs it
in the server instead)."""

from __future__ import annotations

import signal
from dataclasses import replace
from types import FrameType

import click

from scimgate.cli._context import current_settings
from scimgate.events.worker import Worker, WorkerOptions
from scimgate.service.sealing import WEBHOOK_SECRET, Keyring
from scimgate.storage.database import Database


@click.command()
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option(
    "--poll-interval",
    type=click.FloatRange(min=0.01, max=60),
    help="Seconds between polls when idle (default: WORKER_POLL_INTERVAL_SECONDS).",
)
@click.option(
    "--max-seconds", type=click.FloatRange(min=0), help="Stop after about this many seconds."
)
def worker(once: bool, poll_interval: float | None, max_seconds: float | None) -> None:
    """Deliver events to webhooks until stopped (SIGTERM or Ctrl-C finish the current request)."""
    settings = current_settings()
    options = WorkerOptions.from_settings(settings)
    if poll_interval is not None:
        options = replace(options, poll_interval_seconds=poll_interval)
    # One connection per webhook served at once, one for the loop itself.
    db = Database.from_url(settings.database_url, pool_size=options.concurrency + 1)
    runner = Worker(db, options, keyring=Keyring.from_settings(settings, WEBHOOK_SECRET))

    def _stop(signum: int, frame: FrameType | None) -> None:
        runner.stop()

    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        if once:
            sent = runner.run_once()
            click.echo(f"{sent} delivery attempt(s)")
        else:
            runner.run(max_seconds=max_seconds)
    except KeyboardInterrupt:
        runner.stop()
    finally:
        signal.signal(signal.SIGTERM, previous)
        runner.close()
        db.dispose()
