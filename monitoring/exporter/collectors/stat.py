"""stat: boot time, context switches, interrupts, forks and process counts from /proc/stat."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from monitoring.exporter.base import Collector, read_text


class StatCollector(Collector):
    name = "stat"
    description = "Boot time, context switches, interrupts, forks and runnable/blocked processes."

    def collect(self) -> Iterable[Metric]:
        values: dict[str, float] = {}
        for line in read_text(self.settings.proc("stat")).splitlines():
            key, _, rest = line.partition(" ")
            if key in ("intr", "ctxt", "btime", "processes", "procs_running", "procs_blocked"):
                values[key] = float(rest.split()[0])
        yield CounterMetricFamily(
            "node_intr_total", "Total number of interrupts serviced.", value=values["intr"]
        )
        yield CounterMetricFamily(
            "node_context_switches_total", "Total number of context switches.", value=values["ctxt"]
        )
        yield CounterMetricFamily(
            "node_forks_total", "Total number of forks.", value=values["processes"]
        )
        yield GaugeMetricFamily(
            "node_boot_time_seconds", "Node boot time, in unixtime.", value=values["btime"]
        )
        yield GaugeMetricFamily(
            "node_procs_running",
            "Number of processes in runnable state.",
            value=values["procs_running"],
        )
        yield GaugeMetricFamily(
            "node_procs_blocked",
            "Number of processes blocked waiting for I/O to complete.",
            value=values["procs_blocked"],
        )
