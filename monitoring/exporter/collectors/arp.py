"""arp: ARP (IPv4 neighbour) entries per interface (/proc/net/arp)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from monitoring.exporter.base import Collector, Settings, ignored, read_lines


class ARPCollector(Collector):
    name = "arp"
    description = "ARP entries per interface (/proc/net/arp)."

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._devices = settings.arp_devices.compiled()

    def collect(self) -> Iterable[Metric]:
        entries = Counter(
            line.split()[-1] for line in read_lines(self.settings.proc("net", "arp"))[1:]
        )
        family = GaugeMetricFamily("node_arp_entries", "ARP entries by device", labels=["device"])
        for device, count in entries.items():
            if ignored(self._devices, device):
                continue
            family.add_metric([device], float(count))
        yield family
