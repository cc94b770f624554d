"""The `eyeshots backup` group: global options, the repository it opens, output, errors.

Repository and password come from options or the environment (restic's variables work too):
EYESHOTS_BACKUP_REPOSITORY / RESTIC_REPOSITORY, EYESHOTS_BACKUP_PASSWORD_FILE /
RESTIC_PASSWORD_FILE, EYESHOTS_BACKUP_PASSWORD / RESTIC_PASSWORD.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import signal
import sqlite3
import subprocess
import threading
from collections.abc import Callable
from typing import Any

import click

from backup.backends.base import BackendError
from backup.backends.url import LocationError, open_backend
from backup.crypto import CryptoError
from backup.repository import Repository, RepositoryError


class Settings:
    def __init__(
        self,
        repo: str | None,
        password_file: str | None,
        as_json: bool,
        name: str | None = None,
        no_lock: bool = False,
    ) -> None:
        self.no_lock = no_lock
        self.repo_url = repo
        self.password_file = password_file
        self.json = as_json
        self.explicit_name = name
        self._opening: threading.Thread | None = None
        self._opened: Repository | BaseException | None = None

    @property
    def name(self) -> str:
        """The `repository` label in metrics: as configured, else kind and host of the URL."""
        if self.explicit_name:
            return self.explicit_name
        url = self.repo_url or ""
        for kind in ("s3", "sftp"):
            if url.startswith(kind + ":"):
                rest = re.sub(r"^[a-z]+://", "", url[len(kind) + 1 :])
                host = re.split(r"[/:]", rest.split("@")[-1], maxsplit=1)[0]
                return f"{kind}:{host}"
        return "local"

    def password(self, env_prefix: str = "") -> bytes:
        if self.password_file:
            try:
                with open(self.password_file, "rb") as f:
                    return f.read().strip()
            except OSError as e:
                raise click.ClickException(
                    f"cannot read password file {self.password_file}: {e.strerror}"
                ) from e
        for var in ("EYESHOTS_BACKUP_PASSWORD", "RESTIC_PASSWORD"):
            if os.environ.get(var):
                return os.environ[var].encode()
        raise click.ClickException(
            "no password: set EYESHOTS_BACKUP_PASSWORD_FILE (or --password-file) "
            "or EYESHOTS_BACKUP_PASSWORD"
        )

    def backend(self):  # noqa: ANN201 - a Backend
        if not self.repo_url:
            raise click.ClickException(
                "no repository: pass -r/--repo or set EYESHOTS_BACKUP_REPOSITORY"
            )
        return open_backend(self.repo_url)

    def start_open(self) -> None:
        """Open the repository in a thread: scrypt releases the GIL, so the key derivation
        overlaps the imports that follow. `open()` returns (or raises) its outcome."""

        def opener() -> None:
            try:
                self._opened = Repository.open(self.backend(), self.password())
            except BaseException as e:  # noqa: BLE001 - handed to whoever calls open()
                self._opened = e

        self._opening = threading.Thread(target=opener, name="open-repository", daemon=True)
        self._opening.start()

    def lock(self, repo: Repository, exclusive: bool = False, defer_check: bool = False):  # noqa: ANN201
        """The repository lock a command takes (none for readers under --no-lock)."""
        from backup.locks import Lock

        if self.no_lock and not exclusive:
            return contextlib.nullcontext()
        return Lock(repo, exclusive=exclusive, defer_check=defer_check)

    def open(self) -> Repository:
        if self._opening is None:
            return Repository.open(self.backend(), self.password())
        self._opening.join()
        self._opening, opened, self._opened = None, self._opened, None
        if isinstance(opened, BaseException):
            raise opened
        assert opened is not None
        return opened


def emit(settings: Settings, data: Any, text: str | Callable[[], str]) -> None:
    if settings.json:
        click.echo(json.dumps(data, indent=None, default=str))
    else:
        out = text() if callable(text) else text
        # file names that are not UTF-8 go out as their bytes, as restic prints them
        click.echo(out.encode("utf-8", "surrogateescape"))


def clean_errors(fn: Callable) -> Callable:
    """Turn engine errors into one line on stderr and a non-zero exit, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (
            RepositoryError,
            BackendError,
            LocationError,
            LookupError,
            CryptoError,
            OSError,
            ValueError,
            RuntimeError,
            sqlite3.Error,
            subprocess.CalledProcessError,
        ) as e:
            msg = e.args[0] if isinstance(e, KeyError) and e.args else e
            raise click.ClickException(str(msg)) from e

    return wrapper


@click.group()
@click.option(
    "-r",
    "--repo",
    envvar=["EYESHOTS_BACKUP_REPOSITORY", "RESTIC_REPOSITORY"],
    help="Repository: a path, s3:https://host/bucket/prefix or sftp:user@host:/path.",
)
@click.option(
    "--password-file",
    envvar=["EYESHOTS_BACKUP_PASSWORD_FILE", "RESTIC_PASSWORD_FILE"],
    type=click.Path(dir_okay=False),
    help="File holding the repository password.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--name",
    envvar="EYESHOTS_BACKUP_NAME",
    help="Repository name for metrics labels, e.g. s3:contabo (default: kind:host).",
)
@click.option(
    "--no-lock",
    is_flag=True,
    help="Read without taking a lock (read-only repositories); exclusive commands still lock.",
)
@click.pass_context
def cli(
    ctx: click.Context,
    repo: str | None,
    password_file: str | None,
    as_json: bool,
    name: str | None,
    no_lock: bool,
) -> None:
    """Encrypted, deduplicated backups in restic's repository format."""
    ctx.obj = Settings(repo, password_file, as_json, name, no_lock)
    if threading.current_thread() is threading.main_thread():
        # systemd stops units with SIGTERM: unwind so locks are released and metrics written
        signal.signal(signal.SIGTERM, _terminate)


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


pass_settings = click.make_pass_decorator(Settings)


def snapshot_filter_options(fn: Callable) -> Callable:
    """restic's --host/--tag/--path snapshot selection (see backup.snapshots)."""
    fn = click.option(
        "--path",
        "paths",
        multiple=True,
        help="Only snapshots including this path (repeat: must include all).",
    )(fn)
    fn = click.option(
        "--tag",
        "tags",
        multiple=True,
        help="Only snapshots with these tags: a,b = both a and b; repeat for either.",
    )(fn)
    return click.option(
        "--host", "hosts", multiple=True, help="Only snapshots of this host (repeatable)."
    )(fn)


def selection(kw: dict):  # noqa: ANN201 - a SnapshotFilter
    from backup.snapshots import SnapshotFilter

    return SnapshotFilter.from_options(kw.pop("hosts"), kw.pop("tags"), kw.pop("paths"))
