"""sockstat: sockets in use per protocol (/proc/net/sockstat, /proc/net/sockstat6)."""

from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from monitoring.exporter.base import Collector, read_lines

PAGE_SIZE = os.sysconf("SC_PAGESIZE")


class SockstatCollector(Collector):
    name = "sockstat"
    description = "Socket statistics (/proc/net/sockstat, sockstat6)."

    def collect(self) -> Iterable[Metric]:
        lines = read_lines(self.settings.proc("net", "sockstat"))
        # no sockstat6 when IPv6 is disabled
        lines += read_lines(self.settings.proc("net", "sockstat6"), missing_ok=True)
        for line in lines:
            protocol, _, rest = line.partition(":")
            fields = rest.split()
            pairs = dict(zip(fields[::2], fields[1::2], strict=False))
            if protocol == "sockets":
                yield GaugeMetricFamily(
                    "node_sockstat_sockets_used",
                    "Number of IPv4 sockets in use.",
                    value=float(pairs["used"]),
                )
                continue
            if "mem" in pairs:  # mem is counted in pages
                pairs["mem_bytes"] = str(int(pairs["mem"]) * PAGE_SIZE)
            for state, value in pairs.items():
                yield GaugeMetricFamily(
                    f"node_sockstat_{protocol}_{state}",
                    f"Number of {protocol} sockets in state {state}.",
                    value=float(value),
                )
