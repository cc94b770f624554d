"""init, run (alias backup) and restore-drill: making snapshots and proving they restore."""

from __future__ import annotations

import sys
import time
from dataclasses import asdict
from datetime import datetime
from typing import Any

import click

from backup.cli.base import Settings, clean_errors, cli, emit, pass_settings
from backup.cli.policy import policy, policy_options
from backup.repository import Repository


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


def _read_lines(path: str) -> list[str]:
    """restic's --files-from: one path per line; blank lines and `#` comments skipped."""
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            lines = [line.rstrip("\n") for line in f]
    except OSError as e:
        raise click.ClickException(f"cannot read --files-from {path}: {e.strerror}") from e
    return [line for line in lines if line.strip() and not line.startswith("#")]


def _parse_time(text: str) -> int:
    """--time "2006-01-02 15:04:05" in the local zone, as restic takes it."""
    try:
        t = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError as e:
        raise click.BadParameter(
            f"{text!r}: expected YYYY-MM-DD HH:MM:SS", param_hint="--time"
        ) from e
    return int(time.mktime(t.timetuple())) * 1_000_000_000


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
@click.option(
    "--files-from",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Read the paths to back up from this file (one a line, # comments).",
)
@click.option("--tag", multiple=True, default=["eyeshots"], show_default=True)
@click.option("-e", "--exclude", multiple=True, help="Pattern to leave out (restic syntax).")
@click.option("--iexclude", multiple=True, help="Like --exclude, ignoring case.")
@click.option(
    "--exclude-file",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Read --exclude patterns from this file.",
)
@click.option(
    "--exclude-if-present",
    multiple=True,
    metavar="NAME",
    help="Leave out directories containing a file of this name.",
)
@click.option("-x", "--one-file-system", is_flag=True, help="Do not cross file system boundaries.")
@click.option("--host", help="Hostname recorded in the snapshot.")
@click.option("--time", "time_text", help='Snapshot time, "YYYY-MM-DD HH:MM:SS" (default: now).')
@click.option("--parent", help="Snapshot to compare files with (default: latest of same paths).")
@click.option("-f", "--force", is_flag=True, help="Read every file again (no parent snapshot).")
@click.option("-n", "--dry-run", is_flag=True, help="Read and count everything, store nothing.")
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
@policy_options
@pass_settings
@clean_errors
def run(s: Settings, init_missing: bool, **kw: Any) -> None:
    """Back up: databases (consistent copies) and directories, then retention and checks.

    The --keep-* policy applies to this host's snapshots of the same paths only."""
    from backup.patterns import read_pattern_file, validate

    excludes = list(kw["exclude"])
    for f in kw["exclude_file"]:
        excludes += read_pattern_file(f)
    validate([*excludes, *kw["iexclude"]])
    paths = [*kw["files"], *kw["paths"]]
    for f in kw["files_from"]:
        paths += _read_lines(f)
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
        paths=paths,
        sqlite=list(kw["sqlite"]),
        pg_dsn=kw["pg_dsn"],
        staging_dir=kw["staging_dir"],
        state_dir=kw["state_dir"],
        textfile_dir=kw["textfile_dir"] or None,
        policy=policy(kw),
        check_interval_days=kw["check_interval_days"],
        check_read_parts=kw["check_read_parts"],
        tags=list(kw["tag"]),
        excludes=excludes,
        iexcludes=list(kw["iexclude"]),
        exclude_if_present=list(kw["exclude_if_present"]),
        one_file_system=kw["one_file_system"],
        hostname=kw["host"],
        time_ns=_parse_time(kw["time_text"]) if kw["time_text"] else None,
        parent=kw["parent"],
        force=kw["force"],
        dry_run=kw["dry_run"],
        progress=not s.json,
        name=s.name,
    )
    result = run_job(s.open, cfg)
    for e in result.errors:
        click.echo(f"error: {e}", err=True)

    def text() -> str:
        if cfg.dry_run:
            return (
                f"dry run: {result.files} files, would add {result.bytes_added} bytes; "
                "nothing stored"
            )
        return (
            f"snapshot {result.snapshot_id[:8]} saved: {result.files} files, "
            f"{result.bytes_added} bytes added in {result.seconds:.1f}s; "
            f"{result.snapshots} snapshots" + (", check passed" if result.check_ok else "")
        )

    emit(s, asdict(result), text)
    if result.errors:
        # 1: the repository failed its check; 3 (as restic): some files could not be read
        sys.exit(1 if result.check_ok is False else 3)


cli.add_command(run, name="backup")


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
