"""filefd: allocated and maximum file descriptors (NodeFileDescriptorLimit)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from monitoring.exporter.base import Collector, read_text


class FilefdCollector(Collector):
    name = "filefd"
    description = "File descriptor statistics (/proc/sys/fs/file-nr)."

    def collect(self) -> Iterable[Metric]:
        allocated, _, maximum = read_text(self.settings.proc("sys", "fs", "file-nr")).split()[:3]
        yield GaugeMetricFamily(
            "node_filefd_allocated",
            "File descriptor statistics: allocated.",
            value=float(allocated),
        )
        yield GaugeMetricFamily(
            "node_filefd_maximum", "File descriptor statistics: maximum.", value=float(maximum)
        )
