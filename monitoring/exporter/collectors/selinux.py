"""selinux: whether SELinux is enabled and, if so, its modes (selinuxfs)."""

from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from monitoring.exporter.base import Collector, read_text

# go-selinux's EnforceMode values
_MODES = {"enforcing": 1.0, "permissive": 0.0, "disabled": -1.0}


class SELinuxCollector(Collector):
    name = "selinux"
    description = "SELinux status (/sys/fs/selinux)."

    def _config_mode(self) -> float:
        try:
            text = read_text(self.settings.rooted("/etc/selinux/config"))
        except OSError:
            return _MODES["disabled"]
        for line in text.splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "SELINUX":
                return _MODES.get(value.strip().lower(), _MODES["disabled"])
        return _MODES["disabled"]

    def collect(self) -> Iterable[Metric]:
        selinuxfs = self.settings.sys("fs", "selinux")
        enabled = os.path.exists(os.path.join(selinuxfs, "enforce"))
        yield GaugeMetricFamily(
            "node_selinux_enabled",
            "SELinux is enabled, 1 is true, 0 is false",
            value=1.0 if enabled else 0.0,
        )
        if not enabled:
            return
        yield GaugeMetricFamily(
            "node_selinux_config_mode",
            "Configured SELinux enforcement mode",
            value=self._config_mode(),
        )
        yield GaugeMetricFamily(
            "node_selinux_current_mode",
            "Current SELinux enforcement mode",
            value=float(read_text(os.path.join(selinuxfs, "enforce")).strip() or 0),
        )
