"""What `eyeshots status` reports about one server, gathered on the server by the agent (as
root, standard library only): the release, the units, disk, the certificate, the last backup."""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from provision.release import agent

OTHER_UNITS = ("nginx.service", "prometheus.service", "prometheus-alertmanager.service")
DISKS = ("/", "/var/lib/eyeshots", "/srv/eyeshots/files")
CERTIFICATE = "/etc/ssl/eyeshots/live/fullchain.pem"
TEXTFILES = "/var/lib/prometheus/node-exporter/eyeshots_backup_*.prom"


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


def disks() -> list[dict[str, Any]]:
    found = []
    for path in DISKS:
        if Path(path).exists():
            usage = shutil.disk_usage(path)
            used = round(100 * usage.used / usage.total, 1) if usage.total else 0.0
            found.append({"path": path, "used_percent": used, "free_bytes": usage.free})
    return found


def certificate_days() -> float | None:
    result = subprocess.run(
        ["openssl", "x509", "-enddate", "-noout", "-in", CERTIFICATE],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        return None
    end = result.stdout.strip().split("=", 1)[1]
    expires = time.mktime(time.strptime(end, "%b %d %H:%M:%S %Y %Z")) - time.timezone
    return round((expires - time.time()) / 86400, 1)


def last_backup() -> dict[str, Any] | None:
    """The newest successful backup of any repository, from the job's textfile metrics."""
    newest: dict[str, Any] | None = None
    for path in glob.glob(TEXTFILES):
        text = Path(path).read_text()
        for repository, stamp in re.findall(
            r'^eyeshots_backup_last_success_timestamp_seconds\{repository="([^"]*)"\} (\S+)',
            text,
            re.M,
        ):
            age = (time.time() - float(stamp)) / 3600
            if newest is None or age < newest["age_hours"]:
                newest = {"repository": repository, "age_hours": round(age, 1)}
    return newest


def updates() -> dict[str, Any]:
    """Pending upgrades (all, security) and a pending reboot, read as the exporter reads them."""
    from monitoring.exporter.collectors.apt import REBOOT_REQUIRED, is_security, pending_upgrades

    simulation = subprocess.run(
        ["apt-get", "--just-print", "--quiet", "dist-upgrade"],
        capture_output=True,
        text=True,
        env={**os.environ, "LC_ALL": "C"},
    )
    pending = pending_upgrades(simulation.stdout) if simulation.returncode == 0 else None
    reboot = Path(REBOOT_REQUIRED)
    return {
        "pending": None if pending is None else sum(pending.values()),
        "security": None
        if pending is None
        else sum(n for (origin, _), n in pending.items() if is_security(origin)),
        "reboot_required_since": reboot.stat().st_mtime if reboot.exists() else None,
    }


def gather() -> dict[str, Any]:
    return {
        "release": agent.current(),
        "previous": agent.previous(),
        "units": units(),
        "disks": disks(),
        "certificate_days_left": certificate_days(),
        "last_backup": last_backup(),
        "updates": updates(),
    }
