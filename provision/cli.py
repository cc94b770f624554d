"""The `eyeshots` operator command.

Each concern owns its command group in its own folder (`backup/cli.py`, `app/cli.py`, ...);
they are imported only when named so `eyeshots --help` stays fast and one broken concern
cannot take the whole CLI down.
"""

from __future__ import annotations

import importlib
import importlib.util
from importlib.metadata import version

import click

from provision.errors import OperatorError

# name -> "module:attribute" of a click command or group, loaded on first use
LAZY_COMMANDS: dict[str, str] = {
    "app": "app.cli:cli",
    "files": "app.files.cli:cli",
    "backup": "backup.cli:cli",
    "monitoring": "monitoring.cli:cli",
    "agent": "provision.release.agent:agent",
    # the operator's own commands: loaded lazily too, so `eyeshots backup …` on a server does
    # not pay for importing the provisioning stack
    "sandbox": "provision.sandbox.cli:sandbox",
    "provision": "provision.commands:provision",
    "up": "provision.commands:up",
    "deploy": "provision.release.commands:deploy",
    "rollback": "provision.release.commands:rollback",
    "releases": "provision.release.commands:releases",
    "admin-password": "provision.release.commands:admin_password",
    "status": "provision.release.status_commands:status",
    "logs": "provision.release.status_commands:logs",
}


def _module_exists(path: str) -> bool:
    module = path.split(":", 1)[0]
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


class LazyGroup(click.Group):
    """A group whose subcommands from other folders load only when invoked."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        lazy = [name for name, path in LAZY_COMMANDS.items() if _module_exists(path)]
        return sorted({*super().list_commands(ctx), *lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in LAZY_COMMANDS:
            return command
        path = LAZY_COMMANDS[cmd_name]
        if not _module_exists(path):
            return None
        module_name, attribute = path.split(":", 1)
        return getattr(importlib.import_module(module_name), attribute)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version("eyeshots"), prog_name="eyeshots")
def cli() -> None:
    """Provision, deploy, monitor and back up the Eye Shots platform."""


def main() -> None:
    try:
        cli(prog_name="eyeshots", standalone_mode=False)
    except OperatorError as error:
        click.echo(f"eyeshots: error: {error}", err=True)
        raise SystemExit(error.exit_code) from None
    except click.exceptions.Abort:
        click.echo("eyeshots: aborted", err=True)
        raise SystemExit(130) from None
    except click.UsageError as error:
        command = error.ctx.command_path if error.ctx else "eyeshots"
        click.echo(f"eyeshots: error: {error.format_message()}; see `{command} --help`", err=True)
        raise SystemExit(error.exit_code) from None
    except click.ClickException as error:
        error.show()
        raise SystemExit(error.exit_code) from None
