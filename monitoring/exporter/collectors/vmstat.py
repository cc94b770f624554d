"""vmstat: the /proc/vmstat fields node_exporter keeps by default (page faults, swap, OOM kills)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from prometheus_client.metrics_core import Metric, UnknownMetricFamily

from monitoring.exporter.base import Collector, read_text

DEFAULT_FIELDS = re.compile(r"^(oom_kill|pgpg|pswp|pg.*fault).*")


class VmstatCollector(Collector):
    name = "vmstat"
    description = "Paging, swapping and OOM-kill counters (/proc/vmstat)."

    def collect(self) -> Iterable[Metric]:
        for line in read_text(self.settings.proc("vmstat")).splitlines():
            key, _, value = line.partition(" ")
            if DEFAULT_FIELDS.match(key):
                # untyped, as node_exporter emits them (rules use rate()/deriv() on them)
                yield UnknownMetricFamily(
                    "node_vmstat_" + key,
                    f"/proc/vmstat information field {key}.",
                    value=float(value),
                )
