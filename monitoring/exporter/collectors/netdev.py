"""netdev: node_network_*_total counters per interface from /proc/net/dev.

psutil.net_io_counters drops fifo/frame/compressed/multicast/colls/carrier, so all 16 kernel
columns are read; receive_nohandler (netlink-only in node_exporter) comes from sysfs. An
interface that vanishes mid-scrape just loses that one value.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily
from prometheus_client.metrics_core import Metric

from monitoring.exporter.base import Collector, Settings, ignored, read_text

COLUMNS = (
    "receive_bytes",
    "receive_packets",
    "receive_errs",
    "receive_drop",
    "receive_fifo",
    "receive_frame",
    "receive_compressed",
    "receive_multicast",
    "transmit_bytes",
    "transmit_packets",
    "transmit_errs",
    "transmit_drop",
    "transmit_fifo",
    "transmit_colls",
    "transmit_carrier",
    "transmit_compressed",
)


def parse_net_dev(text: str) -> dict[str, list[float]]:
    devices: dict[str, list[float]] = {}
    for line in text.splitlines()[2:]:
        name, sep, rest = line.partition(":")
        if sep:
            devices[name.strip()] = [float(v) for v in rest.split()[:16]]
    return devices


class NetdevCollector(Collector):
    name = "netdev"
    description = "Network interface statistics (/proc/net/dev)."

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._devices = settings.netdev_devices.compiled()

    def _nohandler(self, device: str) -> float | None:
        try:
            return float(
                read_text(self.settings.sys("class", "net", device, "statistics", "rx_nohandler"))
            )
        except (OSError, ValueError):
            return None

    def collect(self) -> Iterable[Metric]:
        devices = parse_net_dev(read_text(self.settings.proc("net", "dev")))
        families = {
            column: CounterMetricFamily(
                f"node_network_{column}_total",
                f"Network device statistic {column}.",
                labels=["device"],
            )
            for column in (*COLUMNS, "receive_nohandler")
        }
        for device, values in devices.items():
            if ignored(self._devices, device):
                continue
            for column, value in zip(COLUMNS, values, strict=False):
                families[column].add_metric([device], value)
            nohandler = self._nohandler(device)
            if nohandler is not None:
                families["receive_nohandler"].add_metric([device], nohandler)
        for column in sorted(families):
            yield families[column]
