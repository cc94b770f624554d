"""entropy: the kernel's random pool (/proc/sys/kernel/random)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from monitoring.exporter.base import Collector, read_text


class EntropyCollector(Collector):
    name = "entropy"
    description = "Available entropy (/proc/sys/kernel/random)."

    def collect(self) -> Iterable[Metric]:
        random = ("sys", "kernel", "random")
        yield GaugeMetricFamily(
            "node_entropy_available_bits",
            "Bits of available entropy.",
            value=float(read_text(self.settings.proc(*random, "entropy_avail"))),
        )
        yield GaugeMetricFamily(
            "node_entropy_pool_size_bits",
            "Bits of entropy pool.",
            value=float(read_text(self.settings.proc(*random, "poolsize"))),
        )
