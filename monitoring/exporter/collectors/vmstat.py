"""vmstat: the /proc/vmstat fields node_exporter keeps by default (page faults, swap, OOM kills)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from prometheus_client.metrics_core import Metric, UnknownMetricFamily

from monitoring.exporter.base import Collector, Settings, read_text


class VmstatCollector(Collector):
    name = "vmstat"
    description = "Paging, swapping and OOM-kill counters (/proc/vmstat)."

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._fields = re.compile(settings.vmstat_fields)

    def collect(self) -> Iterable[Metric]:
        for line in read_text(self.settings.proc("vmstat")).splitlines():
            key, _, value = line.partition(" ")
            if self._fields.search(key):
                # untyped, as node_exporter emits them (rules use rate()/deriv() on them)
                yield UnknownMetricFamily(
                    "node_vmstat_" + key,
                    f"/proc/vmstat information field {key}.",
                    value=float(value),
                )
