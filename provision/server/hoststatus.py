"""What `eyeshots status` reports about one server, gathered on the server by the agent (as
root): the release, the units, disk, the certificate, the last backup."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from monitoring.backup_metrics import last_successes
from monitoring.exporter.collectors.tlscert import not_after, read_certificate
from provision.server.layout import Layout
from provision.server.releases import Releases

OTHER_UNITS = ("nginx.service", "prometheus.service", "prometheus-alertmanager.service")


def units() -> list[dict[str, str]]:
    listed = subprocess.run(
        ["systemctl", "list-units", "--all", "--plain", "--no-legend", "eyeshots-*", *OTHER_UNITS],
        capture_output=True,
        text=True,
    ).stdout
    found = []
    for line in listed.splitlines():
        name, _load, active, sub, *_ = line.split()
        found.append({"unit": name, "active": active, "sub": sub})
    return found


def disks(paths: tuple[str, ...]) -> list[dict[str, Any]]:
    found = []
    for path in paths:
        if Path(path).exists():
            usage = shutil.disk_usage(path)
            used = round(100 * usage.used / usage.total, 1) if usage.total else 0.0
            found.append({"path": path, "used_percent": used, "free_bytes": usage.free})
    return found


def certificate_days(path: str) -> float | None:
    try:
        expires = not_after(read_certificate(path))
    except (OSError, ValueError):
        return None
    return round((expires - time.time()) / 86400, 1)


def last_backup(textfile_directory: str) -> dict[str, Any] | None:
    """The newest successful backup of any repository, from the job's textfile metrics."""
    successes = last_successes(textfile_directory)
    if not successes:
        return None
    repository, stamp = max(successes.items(), key=lambda item: item[1])
    return {"repository": repository, "age_hours": round((time.time() - stamp) / 3600, 1)}


def gather(layout: Layout) -> dict[str, Any]:
    releases = Releases(layout)
    return {
        "release": releases.current(),
        "previous": releases.previous(),
        "units": units(),
        "disks": disks(layout.disks),
        "certificate_days_left": certificate_days(str(layout.certificate)),
        "last_backup": last_backup(str(layout.textfile_directory)),
    }
