"""`eyeshots sandbox ...`: local throwaway VPS machines."""

from __future__ import annotations

import json
import os

import click

from provision.sandbox import machine as machines
from provision.sandbox import network
from provision.sandbox.image import DEFAULT_SUITE, SUITES
from provision.sshkeys import operator_key

DEFAULT_NAME = "eyeshots"
name_argument = click.argument("name", default=DEFAULT_NAME, required=False)


@click.group()
def sandbox() -> None:
    """Local sandbox VPS machines (systemd-nspawn, root only)."""


@sandbox.command()
@name_argument
@click.option(
    "--suite",
    default=DEFAULT_SUITE,
    show_default=True,
    help=f"Debian/Ubuntu suite ({', '.join(SUITES)}).",
)
@click.option(
    "--mirror", default=None, help="Package mirror for the image [default: Debian's or Ubuntu's]."
)
@click.option(
    "--subnet",
    default=network.default_subnet,
    show_default=network.DEFAULT_SUBNET,
    help="Private /24 the machines get addresses from (env EYESHOTS_SANDBOX_SUBNET).",
)
def up(name: str, suite: str, mirror: str | None, subnet: str) -> None:
    """Boot machine NAME (a no-op if it is already running)."""
    machine, started = machines.up(name, suite=suite, mirror=mirror, subnet=subnet)
    if started:
        click.echo(
            f"{machine.name} is up at {machine.address} (sshd answered {machine.boot_seconds} s after boot)"
        )
    else:
        click.echo(f"{machine.name} is already running at {machine.address}")


@sandbox.command()
@click.argument("name")
def down(name: str) -> None:
    """Power NAME off and remove everything it used (disk, namespace, veth, NAT rules)."""
    if machines.down(name):
        click.echo(f"{name} removed")
    else:
        click.echo(f"no machine named {name}; nothing to do")


@sandbox.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_machines(as_json: bool) -> None:
    """List sandbox machines."""
    found = machines.all_machines()
    if as_json:
        click.echo(json.dumps([_describe(m) for m in found], indent=2))
        return
    if not found:
        click.echo("no sandbox machines; start one with `eyeshots sandbox up`")
        return
    click.echo(f"{'NAME':<13} {'STATE':<8} {'ADDRESS':<15} SUITE")
    for m in found:
        click.echo(f"{m.name:<13} {_state(m):<8} {m.address:<15} {m.suite}")


@sandbox.command()
@name_argument
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(name: str, as_json: bool) -> None:
    """Show NAME's address, state and uptime."""
    machine = machines.require(name)
    info = _describe(machine)
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    for key, value in info.items():
        click.echo(f"{key + ':':<14} {value}")


@sandbox.command(context_settings={"ignore_unknown_options": True})
@name_argument
@click.option(
    "-u",
    "--user",
    default=None,
    help="User to log in as [default: the admin user once provisioned, else root].",
)
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def ssh(name: str, user: str | None, command: tuple[str, ...]) -> None:
    """Open a shell on NAME (or run COMMAND there)."""
    machine = machines.require(name)
    user = user or machine.login_user
    if not machine.is_running():
        raise click.ClickException(
            f"{name} is not running; start it with `eyeshots sandbox up {name}`"
        )
    os.execvp("ssh", ssh_command(machine, user, list(command)))


def ssh_command(machine: machines.Machine, user: str, command: list[str]) -> list[str]:
    return [
        "ssh",
        "-i",
        str(operator_key().private),
        "-o",
        f"UserKnownHostsFile={machine.known_hosts}",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "IdentitiesOnly=yes",
        f"{user}@{machine.address}",
        *command,
    ]


def _state(machine: machines.Machine) -> str:
    return "running" if machine.is_running() else "stopped"


def _describe(machine: machines.Machine) -> dict[str, object]:
    seconds = int(machines.uptime(machine))
    return {
        "name": machine.name,
        "state": _state(machine),
        "address": machine.address,
        "suite": machine.suite,
        "uptime": f"{seconds // 3600}h{seconds // 60 % 60:02d}m{seconds % 60:02d}s",
        "uptime_seconds": seconds,
        "boot_seconds": machine.boot_seconds,
        "ssh": f"eyeshots sandbox ssh {machine.name}",
    }
