"""The backup job's metrics, written through the exporter's textfile directory
(monitoring/textfile.py writes and reads them).

The contract (names, labels, meaning) is documented in monitoring/TEXTFILE_METRICS.md and
checked by the alert rules' tests; the backup job calls `write_backup_metrics` after each run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from monitoring import textfile
from monitoring.textfile import DEFAULT_DIRECTORY, Gauge

METRICS = {
    "eyeshots_backup_last_run_timestamp_seconds": "Unixtime the last backup run started.",
    "eyeshots_backup_last_run_success": "1 if the last backup run succeeded, 0 if it failed.",
    "eyeshots_backup_last_success_timestamp_seconds": "Unixtime the last successful backup ended.",
    "eyeshots_backup_last_duration_seconds": "Duration of the last backup run.",
    "eyeshots_backup_last_added_bytes": "Bytes the last successful run added to the repository.",
    "eyeshots_backup_last_processed_bytes": "Bytes of source data the last successful run read.",
}
LAST_SUCCESS = "eyeshots_backup_last_success_timestamp_seconds"


@dataclass(frozen=True)
class BackupRun:
    repository: str
    started: float
    duration: float
    success: bool
    added_bytes: int = 0
    processed_bytes: int = 0


def metrics_path(directory: str, repository: str) -> Path:
    return Path(directory) / f"eyeshots_backup_{textfile.slug(repository)}.prom"


def write_backup_metrics(run: BackupRun, directory: str = DEFAULT_DIRECTORY) -> Path:
    """Atomically replace this repository's *.prom file; a failed run keeps the last success's
    time and sizes."""
    values = {
        "eyeshots_backup_last_run_timestamp_seconds": run.started,
        "eyeshots_backup_last_run_success": 1.0 if run.success else 0.0,
        "eyeshots_backup_last_duration_seconds": run.duration,
    }
    if run.success:
        values[LAST_SUCCESS] = run.started + run.duration
        values["eyeshots_backup_last_added_bytes"] = float(run.added_bytes)
        values["eyeshots_backup_last_processed_bytes"] = float(run.processed_bytes)
    gauges = {name: Gauge(METRICS[name], value) for name, value in values.items()}
    return textfile.write(
        metrics_path(directory, run.repository), {"repository": run.repository}, gauges
    )


def last_successes(directory: str = DEFAULT_DIRECTORY) -> dict[str, float]:
    """Repository -> unixtime of its last successful backup, from the files in `directory`."""
    pattern = str(Path(directory) / "eyeshots_backup_*.prom")
    return {
        labels.get("repository", ""): value
        for labels, value in textfile.read_labelled(pattern, LAST_SUCCESS)
    }
