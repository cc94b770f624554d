"""meminfo: one node_memory_* gauge per /proc/meminfo line.

psutil.virtual_memory() folds ~50 kernel fields into a handful of derived numbers, so the raw file
is read. Naming follows node_exporter's rule up to 1.8 (a superset of the 1.9+ fixed list):
`Active(anon)` -> `Active_anon`, lines with a kB unit -> x1024 and a `_bytes` suffix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from monitoring.exporter.base import Collector, read_text

_PARENS = re.compile(r"\((.*)\)")


def parse_meminfo(text: str) -> dict[str, float]:
    fields: dict[str, float] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        key = _PARENS.sub(r"_\1", parts[0].rstrip(":"))
        value = float(parts[1])
        if len(parts) == 3 and parts[2] == "kB":
            key += "_bytes"
            value *= 1024
        fields[key] = value
    return fields


class MeminfoCollector(Collector):
    name = "meminfo"
    description = "Memory statistics from /proc/meminfo."

    def collect(self) -> Iterable[Metric]:
        for key, value in parse_meminfo(read_text(self.settings.proc("meminfo"))).items():
            name = "node_memory_" + key
            doc = f"Memory information field {key}."
            if key.endswith("_total"):
                yield CounterMetricFamily(name, doc, value=value)
            else:
                yield GaugeMetricFamily(name, doc, value=value)
