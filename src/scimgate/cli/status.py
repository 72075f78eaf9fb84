"""``scimgate status``: a tenant's provisioning status, as the console and the host API show it;
with ``--doctor``, the connection doctor's findings instead."""

from __future__ import annotations

from typing import Any

import click

from scimgate.cli._context import current_settings, database
from scimgate.cli._output import emit_json, iso, json_option
from scimgate.service.doctor import doctor_report
from scimgate.service.status import provisioning_status
from scimgate.service.tenants import get_tenant


@click.command("status")
@click.argument("slug")
@click.option(
    "--doctor", is_flag=True, help="Explain what is wrong with the connection, and the fix."
)
@json_option
def status(slug: str, doctor: bool, as_json: bool) -> None:
    """A tenant's provisioning status: state, last request, counts, tokens.

    With ``--doctor`` the command exits 1 when a finding is an error, so a
    monitoring job can run it as a check; warnings alone exit 0.
    """
    settings = current_settings()
    if doctor:
        with database(settings) as db:
            found = doctor_report(db, get_tenant(db, slug), settings=settings)
        _print_doctor(found, as_json)
        if not found["healthy"]:
            raise SystemExit(1)
        return
    with database(settings) as db:
        report = provisioning_status(
            db, get_tenant(db, slug), idle_after_hours=settings.idle_after_hours
        )
    if as_json:
        emit_json(report.to_dict())
        return
    click.echo(f"tenant:        {report.tenant}")
    click.echo(f"state:         {report.state}")
    click.echo(
        f"last request:  {iso(report.last_request_at) or 'never'} ({report.last_idp or '-'})"
    )
    if report.last_error is not None:
        error = report.last_error
        click.echo(
            f"last error:    {iso(error.occurred_at)} {error.method} {error.path} -> "
            f"{error.status} {error.scim_type or ''} {error.detail or ''}".rstrip()
        )
    click.echo(
        f"users:         {report.users_active} active, {report.users_deactivated} deactivated; "
        f"groups: {report.groups}"
    )
    for window, operations in report.counts.items():
        for operation, outcome in operations.items():
            click.echo(
                f"{window:>4} {operation:<14} "
                f"{outcome['success']:>6} ok {outcome['failure']:>5} failed"
            )
    for token in report.tokens:
        flag = " revoked" if token.revoked else " expired" if token.expired else ""
        click.echo(
            f"token {token.prefix}… {token.name!r} last used {iso(token.last_used_at) or 'never'}"
            f"{', expires ' + (iso(token.expires_at) or '') if token.expires_at else ''}{flag}"
        )


def _print_doctor(found: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(found)
        return
    findings = found["findings"]
    if not findings:
        click.echo(f"{found['tenant']}: the doctor found nothing wrong.")
        return
    for number, finding in enumerate(findings, 1):
        if number > 1:
            click.echo()
        click.echo(f"{finding['severity'].upper()}  {finding['title']}  [{finding['rule']}]")
        click.echo(f"  What:  {finding['explanation']}")
        click.echo(f"  Fix:   {finding['fix']}")
        evidence = ", ".join(f"{k}={v}" for k, v in finding["evidence"].items())
        click.echo(f"  Seen:  {evidence}")
