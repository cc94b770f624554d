"""key list/add/remove: the passwords (key files) that open the repository."""

from __future__ import annotations

import click

from backup.cli.base import Settings, clean_errors, cli, emit, pass_settings


@cli.group()
def key() -> None:
    """Manage the passwords (key files) that open the repository."""


@key.command(name="list")
@pass_settings
@clean_errors
def key_list(s: Settings) -> None:
    """List the key files; * marks the one that opened the repository."""
    from backup.keys import list_keys

    keys = list_keys(s.open())
    emit(
        s,
        keys,
        lambda: "\n".join(
            f"{'*' if k['current'] else ' '}{k['id'][:8]}  {k['username']}@{k['hostname']}  "
            f"{k['created'][:19]}"
            for k in keys
        ),
    )


@key.command(name="add")
@click.option(
    "--new-password-file",
    required=True,
    type=click.Path(dir_okay=False),
    help="File holding the password to add.",
)
@pass_settings
@clean_errors
def key_add(s: Settings, new_password_file: str) -> None:
    """Add a password that opens the repository."""
    from backup.keys import add_key

    with open(new_password_file, "rb") as f:
        new = f.read().strip()
    if not new:
        raise click.ClickException(f"{new_password_file} is empty: put the new password in it")
    key_id = add_key(s.open(), new)
    emit(s, {"id": key_id}, f"saved new key {key_id[:8]}")


@key.command(name="remove")
@click.argument("key_id")
@pass_settings
@clean_errors
def key_remove(s: Settings, key_id: str) -> None:
    """Remove a key file (not the one in use)."""
    from backup.keys import remove_key

    removed = remove_key(s.open(), key_id)
    emit(s, {"removed": removed}, f"removed key {removed[:8]}")
