"""The job's metrics for the exporter's textfile directory.

The core series (last run, success, duration, bytes) follow the contract in
monitoring/TEXTFILE_METRICS.md and are written by monitoring's own writer, which the alert
rules are tested against. What the contract does not cover (snapshot count, the scheduled
check, the restore drill) goes into a second file per repository with the same `repository`
label and names that never collide with the contract's; monitoring/textfile.py writes both.
"""

from __future__ import annotations

from pathlib import Path

from monitoring import textfile
from monitoring.backup_metrics import BackupRun, metrics_path, write_backup_metrics

__all__ = ["BackupRun", "extra_metrics_path", "metrics_path", "write_backup_metrics", "write_extra"]


def extra_metrics_path(directory: str, repository: str, kind: str) -> Path:
    return Path(directory) / f"eyeshots_backup_{kind}_{textfile.slug(repository)}.prom"


def write_extra(path: Path, repository: str, metrics: dict[str, tuple[str, float]]) -> None:
    """metrics: full name -> (help, value); gauges with a `repository` label, written atomically.

    Values already in the file and not given again are kept (a failed run keeps the last
    known snapshot count, a drill keeps the check's values).
    """
    gauges = {
        name: textfile.Gauge(help_text, float(value))
        for name, (help_text, value) in metrics.items()
    }
    textfile.write(path, {"repository": repository}, gauges)
