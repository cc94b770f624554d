"""loadavg: node_load1/5/15, the first three fields of /proc/loadavg (under --path.procfs, as
node_exporter reads them; psutil.getloadavg would give the same numbers for 3 MB more RSS)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from monitoring.exporter.base import Collector, read_text


class LoadavgCollector(Collector):
    name = "loadavg"
    description = "Load averages over 1, 5 and 15 minutes (/proc/loadavg)."

    def collect(self) -> Iterable[Metric]:
        one, five, fifteen = read_text(self.settings.proc("loadavg")).split()[:3]
        yield GaugeMetricFamily("node_load1", "1m load average.", value=float(one))
        yield GaugeMetricFamily("node_load5", "5m load average.", value=float(five))
        yield GaugeMetricFamily("node_load15", "15m load average.", value=float(fifteen))
