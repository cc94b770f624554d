"""`eyeshots provision` and `eyeshots up`: the operator's main jobs."""

from __future__ import annotations

import time

import click

from provision import inventory as inventories
from provision import runner
from provision.errors import OperatorError
from provision.options import inventory_option, limit_option
from provision.paths import INVENTORIES_DIR
from provision.release import ship
from provision.sandbox import machine as sandbox
from provision.sandbox.cli import ssh_command

LOCAL_INVENTORY = INVENTORIES_DIR / "local"


def _report(result: runner.RunResult, dry: bool) -> None:
    verb = "would change" if dry else "changed"
    click.echo(
        f"\n{len(result.changed)} operations {verb}, {result.unchanged} already in place, {len(result.errors)} errors ({result.seconds} s)"
    )
    for line in result.changed:
        click.echo(f"  {verb}: {line}")
    for line in result.errors:
        click.echo(f"  error: {line}", err=True)


def provision_inventory(
    inventory: inventories.Inventory,
    dry: bool = False,
    diff: bool = False,
    limit: str | None = None,
    verbosity: int = 0,
) -> runner.RunResult:
    found = runner.targets(inventory, limit=limit)
    for target in found:
        click.echo(f"==> {target.name}: {target.user}@{target.address}:{target.port}", err=True)
    result = runner.run(found, dry=dry, diff=diff, verbosity=verbosity)
    _report(result, dry)
    if result.errors:
        raise OperatorError(
            f"provisioning failed on {len(result.errors)} operation(s); see the log above",
            exit_code=1,
        )
    if not dry:
        _remember_sandbox_logins(found)
    return result


def _remember_sandbox_logins(found: list[runner.Target]) -> None:
    """Once provisioned, a sandbox refuses root: `sandbox ssh` logs in as the admin user."""
    for target in found:
        name = target.variables.get("eyeshots_sandbox")
        if name:
            machine = sandbox.require(name)
            machine.login_user = target.variables["admin_user"]
            machine.save()


@click.command()
@inventory_option
@click.option(
    "--dry",
    is_flag=True,
    help="Show what would change, with diffs of config files; change nothing.",
)
@click.option("--diff", is_flag=True, help="Show diffs of config files as they change.")
@limit_option
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="Show what runs on the host: -v changes, -vv commands, -vvv output.",
)
def provision(inventory_path: str, dry: bool, diff: bool, limit: str | None, verbose: int) -> None:
    """Harden and configure the hosts of an inventory (pyinfra over SSH)."""
    provision_inventory(
        inventories.load(inventory_path), dry=dry, diff=diff, limit=limit, verbosity=verbose
    )


@click.command()
@click.option(
    "--suite",
    default="bookworm",
    show_default=True,
    help="Debian/Ubuntu suite for the sandbox image.",
)
def up(suite: str) -> None:
    """Boot the local sandbox VPS, provision it and deploy the platform: the whole job."""
    started = time.monotonic()
    local = inventories.load(LOCAL_INVENTORY)
    names = sorted(
        {
            h.variables["eyeshots_sandbox"]
            for h in local.hosts
            if h.variables.get("eyeshots_sandbox")
        }
    )
    if not names:
        raise OperatorError(f"{LOCAL_INVENTORY}/hosts.yml names no eyeshots_sandbox machine")
    for name in names:
        machine, started_now = sandbox.up(name, suite=suite)
        state = f"booted in {machine.boot_seconds} s" if started_now else "already running"
        click.echo(f"==> sandbox {name}: {machine.address} ({state})", err=True)
    provision_inventory(local)
    for target in runner.targets(local):
        ship.go_live(target, unless_live=True)
    admin = local.hosts[0].variables["admin_user"]
    domain = local.hosts[0].variables["eyeshots_domain"]
    click.echo(
        f"\nDone in {time.monotonic() - started:.1f} s. The sandbox VPS is provisioned and deployed:"
    )
    for name in names:
        machine = sandbox.require(name)
        click.echo(f"  {name}: {machine.address}, admin user {admin} (key-only SSH, sudo)")
        click.echo(f"    shell: eyeshots sandbox ssh {name} -u {admin}")
        click.echo(f"    ssh:   {' '.join(ssh_command(machine, admin, []))}")
        click.echo(f"    web:   https://{domain}/ (add `{machine.address} {domain}` to /etc/hosts;")
        click.echo(
            f"           curl -k --resolve {domain}:443:{machine.address} https://{domain}/)"
        )
    click.echo(
        "  first admin's password (shown once): eyeshots admin-password -i inventories/local"
    )
    click.echo(f"  remove it all: eyeshots sandbox down {' '.join(names)}")
