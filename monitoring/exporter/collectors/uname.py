"""uname: node_uname_info, with the NIS domain name os.uname() does not give."""

from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from monitoring.exporter.base import Collector, read_text

LABELS = ["sysname", "release", "version", "machine", "nodename", "domainname"]


class UnameCollector(Collector):
    name = "uname"
    description = "Kernel and host name information (uname)."

    def collect(self) -> Iterable[Metric]:
        info = os.uname()
        try:
            domain = read_text(self.settings.proc("sys", "kernel", "domainname")).strip()
        except OSError:
            domain = "(none)"
        family = GaugeMetricFamily(
            "node_uname_info",
            "Labeled system information as provided by the uname system call.",
            labels=LABELS,
        )
        family.add_metric(
            [info.sysname, info.release, info.version, info.machine, info.nodename, domain], 1.0
        )
        yield family
