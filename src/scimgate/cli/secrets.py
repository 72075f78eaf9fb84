"""``scimgate secrets``: secrets stored in the database, sealed with SECRET_KEY."""

from __future__ import annotations

import click

from scimgate.cli._context import current_settings, database, fail
from scimgate.cli._output import emit_json, json_option
from scimgate.service.secrets import DEFAULT_BATCH, reseal


@click.group()
def secrets() -> None:
    """Stored secrets (webhook signing secrets), sealed with SCIMGATE_SECRET_KEY."""


@secrets.command("reseal")
@click.option(
    "--batch",
    type=click.IntRange(min=1, max=10_000),
    default=DEFAULT_BATCH,
    show_default=True,
    help="Rows per transaction.",
)
@json_option
def secrets_reseal(batch: int, as_json: bool) -> None:
    """Seal every stored secret with the current SCIMGATE_SECRET_KEY.

    Opens values sealed with a key in SCIMGATE_SECRET_KEY_PREVIOUS, and plaintext
    values written before sealing existed. Safe to run again: it only writes
    what is not sealed with the current key yet. Exits 1 if a value opens with
    no configured key.
    """
    settings = current_settings()
    with database(settings) as db:
        report = reseal(db, settings, batch=batch)
    if as_json:
        emit_json(
            {
                "resealed": report.resealed,
                "sealed": report.sealed,
                "current": report.current,
                "unopened": [
                    {"kind": item.kind, "id": item.id, "reason": item.reason}
                    for item in report.unopened
                ],
            }
        )
    else:
        click.echo(
            f"{report.resealed} resealed with the current key, {report.sealed} plaintext "
            f"sealed, {report.current} already current"
        )
    if report.unopened:
        for item in report.unopened:
            click.echo(f"{item.kind} {item.id}: {item.reason}", err=True)
        fail(f"{len(report.unopened)} stored secret(s) could not be opened; left unchanged")
