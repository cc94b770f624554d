"""netstat: the kernel's SNMP counters node_exporter keeps (/proc/net/netstat, snmp, snmp6)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from prometheus_client.metrics_core import Metric, UnknownMetricFamily

from monitoring.exporter.base import Collector, Settings, read_lines

_SNMP6_PROTOCOL = re.compile(r"^(.*?6)(.+)$")


def parse_pairs(lines: list[str]) -> dict[str, dict[str, str]]:
    """netstat/snmp: a header line of names, then a line of values, per protocol."""
    stats: dict[str, dict[str, str]] = {}
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        protocol, *keys = names.split()
        stats[protocol.rstrip(":")] = dict(zip(keys, values.split()[1:], strict=False))
    return stats


def parse_snmp6(lines: list[str]) -> dict[str, dict[str, str]]:
    """snmp6: one "Ip6InReceives 123" per line; the protocol is the name up to its "6"."""
    stats: dict[str, dict[str, str]] = {}
    for line in lines:
        fields = line.split()
        match = _SNMP6_PROTOCOL.match(fields[0]) if len(fields) >= 2 else None
        if match:
            stats.setdefault(match.group(1), {})[match.group(2)] = fields[1]
    return stats


class NetstatCollector(Collector):
    name = "netstat"
    description = "Network protocol counters (/proc/net/netstat, snmp, snmp6)."

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._fields = re.compile(settings.netstat_fields)

    def collect(self) -> Iterable[Metric]:
        stats = parse_pairs(read_lines(self.settings.proc("net", "netstat")))
        stats.update(parse_pairs(read_lines(self.settings.proc("net", "snmp"))))
        # no snmp6 when IPv6 is disabled
        stats.update(parse_snmp6(read_lines(self.settings.proc("net", "snmp6"), missing_ok=True)))
        for protocol, values in stats.items():
            for key, value in values.items():
                name = f"{protocol}_{key}"
                if self._fields.search(name):
                    # untyped, as node_exporter emits them
                    yield UnknownMetricFamily(
                        f"node_netstat_{name}", f"Statistic {protocol}{key}.", value=float(value)
                    )
