"""`eyeshots backup ...`: the operator's and the timer's interface to the backup engine.

Repository and password come from options or the environment (restic's variables work too):
EYESHOTS_BACKUP_REPOSITORY / RESTIC_REPOSITORY, EYESHOTS_BACKUP_PASSWORD_FILE /
RESTIC_PASSWORD_FILE, EYESHOTS_BACKUP_PASSWORD / RESTIC_PASSWORD.
"""

from __future__ import annotations

import functools
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import click

from backup.backends.base import BackendError, FileType
from backup.backends.url import LocationError, open_backend
from backup.crypto import CryptoError
from backup.repository import Repository, RepositoryError


class Settings:
    def __init__(
        self, repo: str | None, password_file: str | None, as_json: bool, name: str | None = None
    ) -> None:
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
        click.echo(text() if callable(text) else text)


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
@click.pass_context
def cli(
    ctx: click.Context, repo: str | None, password_file: str | None, as_json: bool, name: str | None
) -> None:
    """Encrypted, deduplicated backups in restic's repository format."""
    ctx.obj = Settings(repo, password_file, as_json, name)
    if threading.current_thread() is threading.main_thread():
        # systemd stops units with SIGTERM: unwind so locks are released and metrics written
        signal.signal(signal.SIGTERM, _terminate)


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


pass_settings = click.make_pass_decorator(Settings)


@cli.command()
@pass_settings
@clean_errors
def init(s: Settings) -> None:
    """Create a new repository (format v2, zstd compression)."""
    repo = Repository.init(s.backend(), s.password())
    emit(
        s,
        {"message_type": "initialized", "id": repo.config["id"], "repository": s.repo_url},
        f"created repository {repo.config['id'][:10]} at {s.repo_url}",
    )


def _policy_options(fn: Callable) -> Callable:
    for name in ("yearly", "monthly", "weekly", "daily", "hourly", "last"):
        fn = click.option(
            f"--keep-{name}",
            type=click.IntRange(min=0),
            default=0,
            help=f"Keep the {name if name == 'last' else 'newest ' + name} snapshots (count).",
        )(fn)
    return click.option("--keep-tag", multiple=True, help="Keep snapshots with this tag.")(fn)


def _policy(kw: dict):  # noqa: ANN202 - a Policy
    from backup.forget import Policy

    return Policy(
        last=kw["keep_last"],
        hourly=kw["keep_hourly"],
        daily=kw["keep_daily"],
        weekly=kw["keep_weekly"],
        monthly=kw["keep_monthly"],
        yearly=kw["keep_yearly"],
        tags=list(kw["keep_tag"]),
    )


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--sqlite",
    multiple=True,
    type=click.Path(),
    help="Live SQLite database to copy with the online backup API first.",
)
@click.option("--pg-dsn", help="PostgreSQL connection string to pg_dump first.")
@click.option("--files", "files", multiple=True, type=click.Path(), help="Directory to back up.")
@click.option("--tag", multiple=True, default=["eyeshots"], show_default=True)
@click.option("--exclude", multiple=True, help="Pattern to leave out (restic syntax).")
@click.option("--one-file-system", is_flag=True, help="Do not cross file system boundaries.")
@click.option("--host", help="Hostname recorded in the snapshot.")
@click.option("--staging-dir", default="/var/lib/eyeshots-backup/staging", show_default=True)
@click.option("--state-dir", default="/var/lib/eyeshots-backup", show_default=True)
@click.option(
    "--textfile-dir",
    default="/var/lib/prometheus/node-exporter",
    show_default=True,
    help="node_exporter textfile directory for the job's metrics ('' to disable).",
)
@click.option("--check-interval-days", type=float, default=7.0, show_default=True)
@click.option(
    "--check-read-parts",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Each scheduled check also reads 1/N of the data, a different part each time.",
)
@click.option(
    "--init",
    "init_missing",
    is_flag=True,
    help="Create the repository first when it does not exist yet (a new server's first run).",
)
@_policy_options
@pass_settings
@clean_errors
def run(
    s: Settings,
    init_missing: bool,
    paths: tuple[str, ...],
    sqlite: tuple[str, ...],
    pg_dsn: str | None,
    files: tuple[str, ...],
    tag: tuple[str, ...],
    exclude: tuple[str, ...],
    one_file_system: bool,
    host: str | None,
    staging_dir: str,
    state_dir: str,
    textfile_dir: str,
    check_interval_days: float,
    check_read_parts: int,
    **keep: Any,
) -> None:
    """Back up: databases (consistent copies) and directories, then retention and checks."""
    if init_missing:
        from backup.backends.base import FileType

        backend = s.backend()
        if not backend.exists(FileType.CONFIG, ""):
            repo = Repository.init(backend, s.password())
            emit(
                s,
                {"message_type": "initialized", "id": repo.config["id"], "repository": s.repo_url},
                f"created repository {repo.config['id'][:10]} at {s.repo_url}",
            )
    s.start_open()
    from backup.job import JobConfig, run_job

    cfg = JobConfig(
        paths=[*files, *paths],
        sqlite=list(sqlite),
        pg_dsn=pg_dsn,
        staging_dir=staging_dir,
        state_dir=state_dir,
        textfile_dir=textfile_dir or None,
        policy=_policy(keep),
        check_interval_days=check_interval_days,
        check_read_parts=check_read_parts,
        tags=list(tag),
        excludes=list(exclude),
        one_file_system=one_file_system,
        hostname=host,
        progress=not s.json,
        name=s.name,
    )
    result = run_job(s.open, cfg)
    emit(
        s,
        asdict(result),
        lambda: (
            f"snapshot {result.snapshot_id[:8]} saved: {result.files} files, "
            f"{result.bytes_added} bytes added in {result.seconds:.1f}s; "
            f"{result.snapshots} snapshots" + (", check passed" if result.check_ok else "")
        ),
    )
    if result.errors:
        for e in result.errors:
            click.echo(f"error: {e}", err=True)
        # 1: the repository failed its check; 3 (as restic): some files could not be read
        sys.exit(1 if result.check_ok is False else 3)


@cli.command()
@click.option("--host", help="Only snapshots of this host.")
@click.option("--tag", multiple=True, help="Only snapshots with this tag.")
@pass_settings
@clean_errors
def snapshots(s: Settings, host: str | None, tag: tuple[str, ...]) -> None:
    """List snapshots, oldest first."""
    from backup.gotime import parse_ns

    repo = s.open()
    rows = []
    for sid, snap in repo.snapshots():
        if host and snap.get("hostname") != host:
            continue
        if tag and not set(tag) & set(snap.get("tags") or []):
            continue
        rows.append({**snap, "id": sid, "short_id": sid[:8]})
    rows.sort(key=lambda r: parse_ns(r["time"]))

    def text() -> str:
        lines = [f"{'ID':<9} {'Time':<20} {'Host':<15} {'Tags':<15} Paths"]
        for r in rows:
            lines.append(
                f"{r['short_id']:<9} {r['time'][:19].replace('T', ' '):<20} "
                f"{r.get('hostname', ''):<15} {','.join(r.get('tags') or []):<15} "
                f"{', '.join(r.get('paths') or [])}"
            )
        lines.append(f"{len(rows)} snapshots")
        return "\n".join(lines)

    emit(s, rows, text)


@cli.command()
@click.argument("snapshot", default="latest")
@click.option("-l", "--long", "long_", is_flag=True, help="Show mode, size and mtime.")
@pass_settings
@clean_errors
def ls(s: Settings, snapshot: str, long_: bool) -> None:
    """List the files in a snapshot."""
    from backup.restorer import resolve_snapshot, walk

    repo = s.open()
    repo.load_index()
    sid, snap = resolve_snapshot(repo, snapshot)
    entries = []
    for path, node in walk(repo, bytes.fromhex(snap["tree"])):
        entries.append(
            {
                "path": os.fsdecode(path),
                "type": node.get("type"),
                "size": node.get("size", 0),
                "mode": node.get("mode", 0),
                "mtime": node.get("mtime"),
                "uid": node.get("uid"),
                "gid": node.get("gid"),
            }
        )

    def text() -> str:
        if not long_:
            return "\n".join(e["path"] for e in entries)
        return "\n".join(
            f"{e['type']:<8} {oct(e['mode'] & 0o7777)[2:]:>5} {e['uid']:>5} {e['gid']:>5} "
            f"{e['size']:>12} {(e['mtime'] or '')[:19]} {e['path']}"
            for e in entries
        )

    emit(s, {"snapshot": sid, "nodes": entries}, text)


@cli.command()
@click.argument("snapshot", default="latest")
@click.option(
    "-t",
    "--target",
    required=True,
    type=click.Path(file_okay=False),
    help="Directory to restore into.",
)
@click.option("-i", "--include", multiple=True, help="Only this path (and below); repeatable.")
@click.option("--verify", is_flag=True, help="Re-read and hash every restored file.")
@pass_settings
@clean_errors
def restore(
    s: Settings, snapshot: str, target: str, include: tuple[str, ...], verify: bool
) -> None:
    """Restore a snapshot (or some paths of it) with its metadata."""
    s.start_open()
    from backup.locks import Lock
    from backup.progress import Progress
    from backup.restorer import Restorer, resolve_snapshot

    repo = s.open()
    # the index and trees load while the lock waits for other lockers; files are written
    # only after it is confirmed (the restorer checks the repository's guards first)
    with Lock(repo, defer_check=True):
        repo.load_index()
        sid, snap = resolve_snapshot(repo, snapshot)
        progress = Progress(enabled=not s.json)
        result = Restorer(repo, progress=progress).restore(snap, target, list(include), verify)
    emit(
        s,
        {"snapshot": sid, **asdict(result)},
        lambda: (
            f"restored snapshot {sid[:8]} to {target}: {result.files} files, {result.dirs} dirs, "
            f"{result.bytes} bytes" + (f", {result.verified} verified" if verify else "")
        ),
    )
    if result.errors:
        for e in result.errors:
            click.echo(f"error: {e}", err=True)
        sys.exit(1)


@cli.command()
@click.argument("snapshot_ids", nargs=-1)
@_policy_options
@click.option("--prune", "do_prune", is_flag=True, help="Prune right after.")
@click.option("--dry-run", is_flag=True, help="Only show what would be removed.")
@click.option("--tag", "only_tags", multiple=True, help="Only consider snapshots with this tag.")
@click.option("--host", "only_host", help="Only consider snapshots of this host.")
@pass_settings
@clean_errors
def forget(
    s: Settings,
    snapshot_ids: tuple[str, ...],
    do_prune: bool,
    dry_run: bool,
    only_tags: tuple[str, ...],
    only_host: str | None,
    **keep: Any,
) -> None:
    """Remove snapshots by ID or by a keep policy (restic semantics)."""
    from backup.forget import apply_policy
    from backup.locks import Lock
    from backup.prune import prune as do_prune_fn
    from backup.restorer import resolve_snapshot

    repo = s.open()
    policy = _policy(keep)
    with Lock(repo, exclusive=True):
        snaps = [
            (sid, snap)
            for sid, snap in repo.snapshots()
            if (not only_tags or set(only_tags) & set(snap.get("tags") or []))
            and (not only_host or snap.get("hostname") == only_host)
        ]
        if snapshot_ids:
            ids = {resolve_snapshot(repo, ref)[0] for ref in snapshot_ids}
            remove = [x for x in snaps if x[0] in ids]
            kept = [x for x in snaps if x[0] not in ids]
        else:
            kept, remove = apply_policy(snaps, policy)
        if not dry_run:
            for sid, _ in remove:
                repo.backend.remove(FileType.SNAPSHOT, sid)
        pruned = do_prune_fn(repo) if do_prune and not dry_run else None
    report = {
        "keep": [k for k, _ in kept],
        "remove": [r for r, _ in remove],
        "prune": asdict(pruned) if pruned else None,
    }
    emit(
        s,
        report,
        lambda: (
            f"{'would remove' if dry_run else 'removed'} {len(remove)} snapshots, "
            f"kept {len(kept)}"
            + (f"; pruned {pruned.packs_removed + pruned.packs_repacked} packs" if pruned else "")
        ),
    )


@cli.command()
@click.option(
    "--max-unused",
    default="5%",
    show_default=True,
    help="Unused space to tolerate before repacking, as a percentage.",
)
@click.option("--dry-run", is_flag=True)
@pass_settings
@clean_errors
def prune(s: Settings, max_unused: str, dry_run: bool) -> None:
    """Delete data no snapshot uses; repack partly used packs."""
    from backup.locks import Lock
    from backup.prune import prune as prune_fn

    try:
        fraction = float(max_unused.rstrip("%")) / 100
    except ValueError as e:
        raise click.BadParameter(f"{max_unused!r}: expected a percentage like 5%") from e
    repo = s.open()
    with Lock(repo, exclusive=True):
        result = prune_fn(
            repo, fraction, dry_run, progress=None if s.json else lambda m: click.echo(m, err=True)
        )
    emit(
        s,
        asdict(result),
        lambda: (
            f"{'would remove' if dry_run else 'removed'} {result.packs_removed} packs, "
            f"repacked {result.packs_repacked}, freed {result.bytes_freed} bytes"
        ),
    )


@cli.command(name="check")
@click.option("--read-data", is_flag=True, help="Also download and verify every pack.")
@click.option("--read-data-subset", help="Verify only part of the packs: n/t or p%.")
@pass_settings
@clean_errors
def check_cmd(s: Settings, read_data: bool, read_data_subset: str | None) -> None:
    """Verify the repository's structure (and, with --read-data, all its data)."""
    from backup.check import check
    from backup.locks import Lock

    repo = s.open()
    show = sys.stderr.isatty() and not s.json

    def progress(done: int, total: int) -> None:
        if show:
            click.echo(f"\rread {done}/{total} packs", nl=done == total, err=True)

    with Lock(repo):
        result = check(repo, read_data, progress, read_data_subset)
    emit(
        s,
        {**asdict(result), "ok": result.ok},
        lambda: "\n".join(
            [f"hint: {h}" for h in result.hints]
            + [f"error: {e}" for e in result.errors]
            + ["no errors were found" if result.ok else f"{len(result.errors)} errors found"]
        ),
    )
    if not result.ok:
        sys.exit(1)


@cli.command()
@click.option("--remove-all", is_flag=True, help="Also remove locks that are not stale.")
@pass_settings
@clean_errors
def unlock(s: Settings, remove_all: bool) -> None:
    """Remove stale locks (older than 30 min, or of dead processes on this host)."""
    from backup.locks import remove_locks

    removed = remove_locks(s.open(), remove_all)
    emit(s, {"removed": removed}, f"removed {len(removed)} locks")


@cli.group()
def key() -> None:
    """Manage the passwords (key files) that open the repository."""


@key.command(name="list")
@pass_settings
@clean_errors
def key_list(s: Settings) -> None:
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
    from backup.keys import remove_key

    removed = remove_key(s.open(), key_id)
    emit(s, {"removed": removed}, f"removed key {removed[:8]}")


@cli.command(name="restore-drill")
@click.argument("snapshot", default="latest")
@click.option(
    "--scratch",
    type=click.Path(file_okay=False),
    help="Restore here instead of a fresh temporary directory.",
)
@click.option("--keep", is_flag=True, help="Keep the restored files.")
@click.option("--textfile-dir", default="/var/lib/prometheus/node-exporter", show_default=True)
@pass_settings
@clean_errors
def restore_drill(
    s: Settings, snapshot: str, scratch: str | None, keep: bool, textfile_dir: str
) -> None:
    """Restore a snapshot to scratch space, verify every file's hash, and report."""
    from backup.job import restore_drill as drill_fn

    result = drill_fn(s.open(), snapshot, scratch, keep, textfile_dir or None, s.name)
    emit(
        s,
        result.to_dict(),
        lambda: (
            f"restore drill of {result.snapshot_id[:8]}: {result.files} files, "
            f"{result.bytes} bytes, "
            f"{result.verified} verified, databases ok: {len(result.sqlite_ok)}, "
            f"{result.seconds:.1f}s — " + ("PASSED" if result.ok else "FAILED")
        ),
    )
    if not result.ok:
        for e in result.errors:
            click.echo(f"error: {e}", err=True)
        sys.exit(1)
