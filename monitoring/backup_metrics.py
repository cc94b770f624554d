"""The backup job's metrics, written through the exporter's textfile directory.

The contract (names, labels, meaning) is documented in monitoring/TEXTFILE_METRICS.md and
checked by the alert rules' tests; the backup job calls `write_backup_metrics` after each run.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from monitoring.exporter.collectors.textfile import TextfileError, parse_textfile

DEFAULT_DIRECTORY = "/var/lib/prometheus/node-exporter"
METRICS = {
    "eyeshots_backup_last_run_timestamp_seconds": "Unixtime the last backup run started.",
    "eyeshots_backup_last_run_success": "1 if the last backup run succeeded, 0 if it failed.",
    "eyeshots_backup_last_success_timestamp_seconds": "Unixtime the last successful backup ended.",
    "eyeshots_backup_last_duration_seconds": "Duration of the last backup run.",
    "eyeshots_backup_last_added_bytes": "Bytes the last successful run added to the repository.",
    "eyeshots_backup_last_processed_bytes": "Bytes of source data the last successful run read.",
}


@dataclass(frozen=True)
class BackupRun:
    repository: str
    started: float
    duration: float
    success: bool
    added_bytes: int = 0
    processed_bytes: int = 0


def metrics_path(directory: str, repository: str) -> Path:
    slug = re.sub(r"[^a-zA-Z0-9]+", "_", repository).strip("_") or "default"
    return Path(directory) / f"eyeshots_backup_{slug}.prom"


def _previous(path: Path) -> dict[str, float]:
    """Values of the last file, so a failed run keeps the last success's time and sizes."""
    try:
        families = parse_textfile(path.read_text())
    except (OSError, TextfileError):
        return {}
    return {name: f.samples[0][2] for name, f in families.items() if f.samples}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def write_backup_metrics(run: BackupRun, directory: str = DEFAULT_DIRECTORY) -> Path:
    """Atomically (write + rename) replace this repository's *.prom file."""
    path = metrics_path(directory, run.repository)
    values = _previous(path)
    values["eyeshots_backup_last_run_timestamp_seconds"] = run.started
    values["eyeshots_backup_last_run_success"] = 1.0 if run.success else 0.0
    values["eyeshots_backup_last_duration_seconds"] = run.duration
    if run.success:
        values["eyeshots_backup_last_success_timestamp_seconds"] = run.started + run.duration
        values["eyeshots_backup_last_added_bytes"] = float(run.added_bytes)
        values["eyeshots_backup_last_processed_bytes"] = float(run.processed_bytes)
    label = f'{{repository="{_escape(run.repository)}"}}'
    lines = []
    for name, doc in METRICS.items():
        if name in values:
            lines += [
                f"# HELP {name} {doc}",
                f"# TYPE {name} gauge",
                f"{name}{label} {values[name]!r}",
            ]
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", dir=directory)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write("\n".join(lines) + "\n")
        # the exporter runs as its own user: the file must be world-readable
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path
