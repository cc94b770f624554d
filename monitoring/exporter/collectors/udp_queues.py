"""udp_queues: memory queued in UDP sockets, summed per direction (/proc/net/udp, udp6)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from monitoring.exporter.base import Collector, NoDataError, read_lines


def queue_totals(lines: list[str]) -> tuple[int, int]:
    tx = rx = 0
    for line in lines[1:]:
        queues = line.split()[4]  # "tx_queue:rx_queue" in hex
        tx_hex, _, rx_hex = queues.partition(":")
        tx += int(tx_hex, 16)
        rx += int(rx_hex, 16)
    return tx, rx


class UDPQueuesCollector(Collector):
    name = "udp_queues"
    description = "UDP socket queue memory (/proc/net/udp, udp6)."

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "node_udp_queues",
            "Number of allocated memory in the kernel for UDP datagrams in bytes.",
            labels=["queue", "ip"],
        )
        found = False
        for ip, file in (("v4", "udp"), ("v6", "udp6")):
            lines = read_lines(self.settings.proc("net", file), missing_ok=True)
            if lines:
                found = True
                tx, rx = queue_totals(lines)
                family.add_metric(["tx", ip], float(tx))
                family.add_metric(["rx", ip], float(rx))
        if not found:
            raise NoDataError("no /proc/net/udp or udp6")
        yield family
