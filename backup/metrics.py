"""The job's metrics for the exporter's textfile directory.

The core series (last run, success, duration, bytes) follow the contract in
monitoring/TEXTFILE_METRICS.md and are written by monitoring's own writer, which the alert
rules are tested against. What the contract does not cover (snapshot count, the scheduled
check, the restore drill) goes into a second file per repository with the same `repository`
label and names that never collide with the contract's.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from monitoring.backup_metrics import BackupRun, metrics_path, write_backup_metrics

__all__ = ["BackupRun", "extra_metrics_path", "metrics_path", "write_backup_metrics", "write_extra"]


def _slug(repository: str) -> str:
    return re.sub(r"[^a-zA-Z0-9]+", "_", repository).strip("_") or "default"


def extra_metrics_path(directory: str, repository: str, kind: str) -> Path:
    return Path(directory) / f"eyeshots_backup_{kind}_{_slug(repository)}.prom"


def write_extra(path: Path, repository: str, metrics: dict[str, tuple[str, float]]) -> None:
    """metrics: full name -> (help, value); gauges with a `repository` label, written atomically.

    Values already in the file and not given again are kept (a failed run keeps the last
    known snapshot count, a drill keeps the check's values).
    """
    current: dict[str, tuple[str, float]] = {}
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        lines = []
    helps = {}
    for line in lines:
        if line.startswith("# HELP "):
            name, _, text = line[7:].partition(" ")
            helps[name] = text
        elif line and not line.startswith("#"):
            series, _, value = line.rpartition(" ")
            name = series.split("{", 1)[0]
            try:
                current[name] = (helps.get(name, ""), float(value))
            except ValueError:
                continue
    current.update(metrics)
    label = repository.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    out = []
    for name, (help_text, value) in sorted(current.items()):
        out += [
            f"# HELP {name} {help_text}",
            f"# TYPE {name} gauge",
            f'{name}{{repository="{label}"}} {float(value)!r}',
        ]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text("\n".join(out) + "\n")
    os.chmod(tmp, 0o644)  # the exporter runs as its own user
    os.replace(tmp, path)
