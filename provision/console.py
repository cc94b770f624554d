"""The command-line frame both commands share (`eyeshots` on the operator's machine,
`eyeshots-server` on a server): subcommands from other folders loaded only when named, and
every expected failure printed as one line. Standard library and click only."""

from __future__ import annotations

import importlib
import importlib.util
from importlib.metadata import version

import click

from provision.errors import OperatorError


def say(message: str) -> None:
    """A progress line on stderr (stdout stays for results)."""
    click.echo(f"--> {message}", err=True)


def _module_exists(path: str) -> bool:
    module = path.split(":", 1)[0]
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


class LazyGroup(click.Group):
    """A group whose subcommands (name -> "module:attribute") load only when invoked, so
    `--help` stays fast and one broken concern cannot take the whole command down."""

    def __init__(self, *args: object, lazy: dict[str, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        found = [name for name, path in self.lazy.items() if _module_exists(path)]
        return sorted({*super().list_commands(ctx), *found})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in self.lazy:
            return command
        path = self.lazy[cmd_name]
        if not _module_exists(path):
            return None
        module_name, attribute = path.split(":", 1)
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            # a release venv on a server has no operator extra (pyinfra, ...)
            raise OperatorError(
                f"`{ctx.command_path} {cmd_name}` needs {error.name}, which is not installed "
                "here: it runs on the operator's machine (`pip install 'eyeshots[operator]'`)"
            ) from None
        return getattr(module, attribute)


def lazy_group(prog_name: str, lazy: dict[str, str], help: str) -> click.Group:
    """The top command: `lazy` subcommands, -h/--help and --version."""
    group = LazyGroup(
        prog_name,
        lazy=lazy,
        help=help,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    return click.version_option(version("eyeshots"), prog_name=prog_name)(group)


def run_main(cli: click.Group, prog_name: str) -> None:
    """Run `cli`; an expected failure exits with one line on stderr, never a traceback."""
    try:
        cli(prog_name=prog_name, standalone_mode=False)
    except OperatorError as error:
        click.echo(f"{prog_name}: error: {error}", err=True)
        raise SystemExit(error.exit_code) from None
    except click.exceptions.Abort:
        click.echo(f"{prog_name}: aborted", err=True)
        raise SystemExit(130) from None
    except click.UsageError as error:
        command = error.ctx.command_path if error.ctx else prog_name
        click.echo(
            f"{prog_name}: error: {error.format_message()}; see `{command} --help`", err=True
        )
        raise SystemExit(error.exit_code) from None
    except click.ClickException as error:
        error.show()
        raise SystemExit(error.exit_code) from None
