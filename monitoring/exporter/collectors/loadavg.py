"""loadavg: node_load1/5/15 from psutil (exactly /proc/loadavg's first three fields)."""

from __future__ import annotations

from collections.abc import Iterable

import psutil
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from monitoring.exporter.base import Collector


class LoadavgCollector(Collector):
    name = "loadavg"
    description = "Load averages over 1, 5 and 15 minutes."

    def collect(self) -> Iterable[Metric]:
        one, five, fifteen = psutil.getloadavg()
        yield GaugeMetricFamily("node_load1", "1m load average.", value=one)
        yield GaugeMetricFamily("node_load5", "5m load average.", value=five)
        yield GaugeMetricFamily("node_load15", "15m load average.", value=fifteen)
