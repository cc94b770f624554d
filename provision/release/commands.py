"""`eyeshots deploy`, `eyeshots rollback`, `eyeshots releases`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from provision import inventory as inventories
from provision import runner
from provision.options import inventory_option, limit_option
from provision.paths import PROJECT_ROOT
from provision.release import ship

health_option = click.option(
    "--health-timeout",
    default=60.0,
    show_default=True,
    type=click.FloatRange(1, 3600),
    help="Seconds a new release has to pass its readiness checks.",
)


def inventory_targets(inventory_path: str, limit: str | None) -> list[runner.Target]:
    """The inventory's hosts (or the one named by --limit), validated and reachable."""
    return runner.targets(inventories.load(inventory_path), limit=limit)


@click.command()
@inventory_option
@limit_option
@health_option
@click.option(
    "--keep",
    default=5,
    show_default=True,
    type=click.IntRange(2, 100),
    help="Releases kept on each host.",
)
@click.option(
    "--source",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=PROJECT_ROOT,
    help="Project checkout to build the release from.  [default: this checkout]",
)
def deploy(
    inventory_path: str, limit: str | None, health_timeout: float, keep: int, source: Path
) -> None:
    """Build a release and switch every host to it with zero downtime.

    A release that fails its readiness checks is stopped and the previous one keeps serving;
    the command then exits non-zero naming the failed check.
    """
    for target in inventory_targets(inventory_path, limit):
        click.echo(f"==> {target.name}: {target.user}@{target.address}", err=True)
        ship.go_live(target, source=source, keep=keep, health_timeout=health_timeout)


@click.command()
@inventory_option
@limit_option
@health_option
def rollback(inventory_path: str, limit: str | None, health_timeout: float) -> None:
    """Switch back to the previous release (its code; the database keeps its schema)."""
    for target in inventory_targets(inventory_path, limit):
        click.echo(f"==> {target.name}: {target.user}@{target.address}", err=True)
        ship.rollback(target, health_timeout=health_timeout)


@click.command()
@inventory_option
@limit_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def releases(inventory_path: str, limit: str | None, as_json: bool) -> None:
    """List the releases installed on each host, newest last."""
    found = {t.name: ship.releases(t) for t in inventory_targets(inventory_path, limit)}
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    for name, installed in found.items():
        click.echo(f"{name}:")
        if not installed:
            click.echo("  no releases yet; run `eyeshots deploy`")
        for release in installed:
            mark = "current" if release["current"] else "previous" if release["previous"] else ""
            click.echo(f"  {release['version']:<32} {mark:<9} {release['activated']}")


@click.command("admin-password")
@inventory_option
@limit_option
def admin_password(inventory_path: str, limit: str | None) -> None:
    """Show the first admin's generated password, once (then it is deleted from the server)."""
    for target in inventory_targets(inventory_path, limit):
        email, password = ship.admin_password(target).split(" ", 1)
        click.echo(f"{target.name}: sign in as {email} with password {password}")
        click.echo("  (shown once; change it after signing in)")
