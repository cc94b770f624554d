"""`eyeshots-server agent ...`: what `eyeshots deploy`, `rollback`, `releases`, `status` and
`admin-password` run on the server over SSH, as root, from a release's virtualenv."""

from __future__ import annotations

import json

import click

from provision.console import say
from provision.errors import OperatorError
from provision.server import admin, hoststatus, layout
from provision.server.releases import Releases
from provision.server.switch import activate, deploy_lock


@click.group()
def agent() -> None:
    """Commands `eyeshots deploy` runs on the server (as root); not for the operator's machine."""


@agent.command("activate")
@click.argument("version")
@click.option("--migrate/--no-migrate", default=True, show_default=True)
@click.option("--health-timeout", default=60.0, show_default=True, help="Seconds to wait.")
@click.option("--keep", default=5, show_default=True, type=click.IntRange(2, 100))
@click.option("--admin-email", default="", help="Create this first admin on a new server.")
def activate_command(
    version: str, migrate: bool, health_timeout: float, keep: int, admin_email: str
) -> None:
    """Switch traffic to an installed release, with zero downtime."""
    here = layout.load()
    with deploy_lock(here):
        activate(here, version, migrate, health_timeout, keep, admin_email)


@agent.command("admin-password")
def admin_password_command() -> None:
    """Print the first admin's password once, then forget it."""
    click.echo(admin.read_password_once(layout.load()))


@agent.command("rollback")
@click.option("--health-timeout", default=60.0, show_default=True, help="Seconds to wait.")
def rollback_command(health_timeout: float) -> None:
    """Switch back to the previous release (no migrations run)."""
    here = layout.load()
    releases = Releases(here)
    with deploy_lock(here):
        target = releases.previous()
        if target is None:
            raise OperatorError("no previous release is installed to roll back to")
        say(f"rolling back from {releases.current()} to {target}")
        activate(here, target, run_migrations=False, health_timeout=health_timeout, keep=100)


@agent.command("releases")
def releases_command() -> None:
    """The installed releases as JSON."""
    click.echo(json.dumps(Releases(layout.load()).listing()))


@agent.command("status")
def status_command() -> None:
    """This server's release, units, disks, certificate and last backup as JSON."""
    click.echo(json.dumps(hoststatus.gather(layout.load())))
