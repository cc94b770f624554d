"""The nightly job and the restore drill.

The job takes an application-consistent copy of the SQLite database through SQLite's online
backup API (a plain file copy of a live database can be torn), backs it up together with the
uploaded files, applies retention, runs a structural check when one is due, and records the
outcome for Prometheus. The drill restores a snapshot to scratch space and verifies it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from backup.archiver import Archiver
from backup.backends.base import FileType
from backup.check import check
from backup.forget import Policy, forget, same_group
from backup.locks import Lock, remove_locks
from backup.progress import Progress
from backup.prune import prune
from backup.repository import Repository
from backup.restorer import Restorer
from backup.snapshots import resolve_snapshot

log = logging.getLogger(__name__)


@dataclass
class JobConfig:
    paths: list[str] = field(default_factory=list)
    sqlite: list[str] = field(default_factory=list)
    pg_dsn: str | None = None
    staging_dir: str = "/var/lib/eyeshots-backup/staging"
    state_dir: str = "/var/lib/eyeshots-backup"
    textfile_dir: str | None = "/var/lib/prometheus/node-exporter"
    policy: Policy = field(default_factory=Policy)
    check_interval_days: float = 7.0
    check_read_parts: int = 0  # N > 0: every check also reads the next 1/N of all packs
    tags: list[str] = field(default_factory=lambda: ["eyeshots"])
    excludes: list[str] = field(default_factory=list)
    iexcludes: list[str] = field(default_factory=list)
    exclude_if_present: list[str] = field(default_factory=list)
    one_file_system: bool = False
    hostname: str | None = None
    time_ns: int | None = None
    parent: str | None = None  # a snapshot ID (prefix) to compare with
    force: bool = False  # read every file, compare with no parent
    dry_run: bool = False  # read and count, store nothing, record nothing
    progress: bool = False
    # the `repository` label of the metrics, e.g. "s3:contabo" (never the URL's secrets)
    name: str = "local"


@dataclass
class JobResult:
    snapshot_id: str = ""
    seconds: float = 0.0
    bytes_added: int = 0
    bytes_processed: int = 0
    files: int = 0
    snapshots: int = 0
    removed_snapshots: int = 0
    checked: bool = False
    check_ok: bool | None = None
    errors: list[str] = field(default_factory=list)


def dump_sqlite(source: str, dest: Path) -> None:
    """Consistent copy of a live SQLite database (WAL or not) via the online backup API."""
    if not os.path.isfile(source):
        raise FileNotFoundError(f"{source}: SQLite database not found (check --sqlite)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    tmp.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        out = sqlite3.connect(tmp)
        try:
            src.backup(out)
            if out.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise RuntimeError(f"{source}: the copy failed SQLite's integrity check")
        finally:
            out.close()
    finally:
        src.close()
    os.replace(tmp, dest)


def dump_postgres(dsn: str, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    subprocess.run(["pg_dump", "--format=custom", f"--file={tmp}", dsn], check=True)
    os.replace(tmp, dest)


def run_job(open_repo: Callable[[], Repository], cfg: JobConfig) -> JobResult:
    """Opening happens inside, so a wrong password or a dead backend also shows in metrics."""
    result = JobResult()
    start = time.monotonic()
    started = time.time()
    state_file = Path(cfg.state_dir) / "state.json"
    state = _load_state(state_file)
    ok = False
    try:
        staging = Path(cfg.staging_dir)
        paths = list(cfg.paths)
        if cfg.sqlite or cfg.pg_dsn:
            if staging.exists():
                shutil.rmtree(staging)
            for db in cfg.sqlite:
                dump_sqlite(db, staging / Path(db).name)
            if cfg.pg_dsn:
                dump_postgres(cfg.pg_dsn, staging / "postgres.dump")
            paths.insert(0, str(staging))
        if not paths:
            raise ValueError("nothing to back up: give paths, --sqlite or --files")
        repo = open_repo()
        # a run killed earlier (OOM, reboot) leaves its lock; it would block retention forever.
        # Only provably stale locks go: this host's dead PIDs, or not refreshed for 30 minutes.
        remove_locks(repo)
        # the index loads (and the tree walk starts) while the lock waits for other lockers
        with Lock(repo, defer_check=True):
            repo.load_index()
            parent = resolve_snapshot(repo, cfg.parent)[0] if cfg.parent else None
            archiver = Archiver(
                repo,
                cfg.excludes,
                cfg.one_file_system,
                progress=Progress(enabled=cfg.progress),
                iexcludes=cfg.iexcludes,
                exclude_if_present=cfg.exclude_if_present,
                dry_run=cfg.dry_run,
            )
            summary = archiver.snapshot(
                paths,
                tags=cfg.tags,
                hostname=cfg.hostname,
                parent=parent,
                time_ns=cfg.time_ns,
                force=cfg.force,
            )
        result.snapshot_id = summary.snapshot_id
        result.bytes_added = summary.data_added_packed
        result.bytes_processed = summary.total_bytes_processed
        result.files = summary.total_files_processed
        result.errors += summary.errors
        if cfg.dry_run:
            ok = not result.errors
            return result
        if not cfg.policy.empty():
            # retention covers this job's own snapshots only (its host and paths, restic's
            # default group): other hosts' and hand-made snapshots are not the job's to delete
            made = repo.load_unpacked(FileType.SNAPSHOT, summary.snapshot_id)
            with Lock(repo, exclusive=True):
                forgotten = forget(repo, cfg.policy, same_group(made))
                result.removed_snapshots = len(forgotten.remove)
                if forgotten.remove:
                    prune(repo)
        due = time.time() - state.get("last_check", 0) >= cfg.check_interval_days * 86400
        if due:
            subset = None
            if cfg.check_read_parts:
                part = state.get("next_read_part", 0) % cfg.check_read_parts
                subset = f"{part + 1}/{cfg.check_read_parts}"
                state["next_read_part"] = part + 1
            with Lock(repo):
                res = check(repo, subset=subset)
            result.checked, result.check_ok = True, res.ok
            state["last_check"] = time.time()
            state["last_check_ok"] = res.ok
            if not res.ok:
                result.errors += res.errors
        result.snapshots = len(repo.list_ids(FileType.SNAPSHOT))
        ok = not result.errors
        return result
    finally:
        result.seconds = time.monotonic() - start
        if ok and not cfg.dry_run:
            state["last_success"] = time.time()
        try:
            # a dry run records no outcome: it proved nothing about the backups
            if not cfg.dry_run:
                _save_state(state_file, state)
                if cfg.textfile_dir:
                    _write_job_metrics(cfg, started, result, ok, state)
        except OSError as e:
            # never hide the run's own outcome behind a metrics-file problem
            log.error("cannot record the run's outcome: %s", e)
            result.errors.append(f"metrics/state not written: {e}")
        if cfg.sqlite or cfg.pg_dsn:
            shutil.rmtree(cfg.staging_dir, ignore_errors=True)


def _write_job_metrics(
    cfg: JobConfig, started: float, result: JobResult, ok: bool, state: dict
) -> None:
    # imported here: the metrics code pulls in the exporter's collectors (~0.1 s at startup)
    from backup.metrics import BackupRun, extra_metrics_path, write_backup_metrics, write_extra

    assert cfg.textfile_dir
    Path(cfg.textfile_dir).mkdir(parents=True, exist_ok=True)
    run = BackupRun(
        repository=cfg.name,
        started=started,
        duration=round(result.seconds, 3),
        success=ok,
        added_bytes=result.bytes_added,
        processed_bytes=result.bytes_processed,
    )
    write_backup_metrics(run, cfg.textfile_dir)
    extra: dict[str, tuple[str, float]] = {}
    if ok:
        extra["eyeshots_backup_snapshots"] = ("Snapshots in the repository.", result.snapshots)
    if "last_check" in state:
        extra["eyeshots_backup_last_check_timestamp_seconds"] = (
            "Unixtime the last scheduled repository check ended.",
            state["last_check"],
        )
        extra["eyeshots_backup_last_check_success"] = (
            "1 if the last scheduled repository check passed.",
            int(state["last_check_ok"]),
        )
    if extra:
        write_extra(extra_metrics_path(cfg.textfile_dir, cfg.name, "repo"), cfg.name, extra)


def _load_state(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return {}


def _save_state(path: Path, state: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state))
    os.replace(tmp, path)


@dataclass
class DrillResult:
    snapshot_id: str
    files: int
    bytes: int
    verified: int
    seconds: float
    sqlite_ok: list[str]
    errors: list[str]

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}


def restore_drill(
    repo: Repository,
    snapshot: str = "latest",
    scratch: str | None = None,
    keep: bool = False,
    textfile_dir: str | None = None,
    name: str = "local",
) -> DrillResult:
    start = time.monotonic()
    target = Path(scratch or tempfile.mkdtemp(prefix="eyeshots-restore-drill-"))
    errors: list[str] = []
    sqlite_ok: list[str] = []
    try:
        with Lock(repo, defer_check=True):
            repo.load_index()
            sid, snap = resolve_snapshot(repo, snapshot)
            res = Restorer(repo).restore(snap, str(target), verify=True)
        errors += res.errors
        # every file is hashed against the snapshot; databases must also open cleanly
        for db in target.rglob("*.db"):
            try:
                con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
                try:
                    if con.execute("PRAGMA integrity_check").fetchone()[0] == "ok":
                        sqlite_ok.append(str(db.relative_to(target)))
                    else:
                        errors.append(f"{db.relative_to(target)}: integrity check failed")
                finally:
                    con.close()
            except sqlite3.DatabaseError as e:
                errors.append(f"{db.relative_to(target)}: {e}")
        drill = DrillResult(
            sid, res.files, res.bytes, res.verified, time.monotonic() - start, sqlite_ok, errors
        )
    finally:
        if not keep:
            shutil.rmtree(target, ignore_errors=True)
    if textfile_dir:
        from backup.metrics import extra_metrics_path, write_extra

        write_extra(
            extra_metrics_path(textfile_dir, name, "drill"),
            name,
            {
                "eyeshots_backup_restore_drill_timestamp_seconds": (
                    "Unixtime the last restore drill ended.",
                    time.time(),
                ),
                "eyeshots_backup_restore_drill_success": (
                    "1 if the last restore drill restored and verified everything.",
                    int(drill.ok),
                ),
                "eyeshots_backup_restore_drill_duration_seconds": (
                    "Duration of the last restore drill.",
                    round(drill.seconds, 3),
                ),
            },
        )
    return drill
