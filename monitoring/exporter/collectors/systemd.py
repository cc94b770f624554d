"""systemd (project metric): state and restarts of the project's units, in node_exporter's names.

Only the units named with --collector.systemd.unit are asked about (one `systemctl show` per
scrape), and the series match node_exporter's systemd collector so the mixin's
NodeSystemdServiceFailed / Crashlooping rules apply unchanged.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from monitoring.exporter.base import Collector

STATES = ("activating", "active", "deactivating", "failed", "inactive")
TIMEOUT_SECONDS = 5.0


def parse_show(text: str) -> list[dict[str, str]]:
    """`systemctl show` output: one block of Key=Value lines per unit, blank-line separated."""
    units: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in [*text.splitlines(), ""]:
        if not line.strip():
            if current:
                units.append(current)
                current = {}
            continue
        key, _, value = line.partition("=")
        current[key] = value
    return units


class SystemdCollector(Collector):
    name = "systemd"
    default_enabled = False
    description = "State and restart count of the units given with --collector.systemd.unit."

    def collect(self) -> Iterable[Metric]:
        state = GaugeMetricFamily(
            "node_systemd_unit_state", "Systemd unit", labels=["name", "state", "type"]
        )
        restarts = CounterMetricFamily(
            "node_systemd_service_restart_total",
            "Service unit count of Restart triggers",
            labels=["name"],
        )
        if self.settings.systemd_units:
            result = subprocess.run(
                [
                    self.settings.systemctl,
                    "show",
                    "--property=Id,LoadState,ActiveState,Type,NRestarts",
                    "--",
                    *self.settings.systemd_units,
                ],
                capture_output=True,
                text=True,
                timeout=TIMEOUT_SECONDS,
                check=True,
            )
            for unit in parse_show(result.stdout):
                # a unit this host does not have (certbot.timer without ACME, no backup
                # configured) is not "down": like node_exporter, export only loaded units
                if unit.get("LoadState") == "not-found":
                    continue
                name = unit.get("Id", "")
                active = unit.get("ActiveState", "")
                for candidate in STATES:
                    state.add_metric(
                        [name, candidate, unit.get("Type", "")], 1.0 if candidate == active else 0.0
                    )
                if unit.get("NRestarts", "").isdigit():
                    restarts.add_metric([name], float(unit["NRestarts"]))
        yield state
        yield restarts
