"""schedstat: per-CPU scheduler run and wait time (/proc/schedstat)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily
from prometheus_client.metrics_core import Metric

from monitoring.exporter.base import Collector, NoDataError, read_lines


class SchedstatCollector(Collector):
    name = "schedstat"
    description = "Scheduler statistics per CPU (/proc/schedstat)."

    def collect(self) -> Iterable[Metric]:
        try:
            lines = read_lines(self.settings.proc("schedstat"))
        except FileNotFoundError as exc:
            raise NoDataError("schedstat file does not exist") from exc
        running = CounterMetricFamily(
            "node_schedstat_running_seconds_total",
            "Number of seconds CPU spent running a process.",
            labels=["cpu"],
        )
        waiting = CounterMetricFamily(
            "node_schedstat_waiting_seconds_total",
            "Number of seconds spent by processing waiting for this CPU.",
            labels=["cpu"],
        )
        timeslices = CounterMetricFamily(
            "node_schedstat_timeslices_total",
            "Number of timeslices executed by CPU.",
            labels=["cpu"],
        )
        for line in lines:
            fields = line.split()
            if not fields or not fields[0].startswith("cpu") or len(fields) < 10:
                continue
            cpu = fields[0][3:]
            # the last three fields: ns running, ns waiting, timeslices
            running.add_metric([cpu], int(fields[7]) / 1e9)
            waiting.add_metric([cpu], int(fields[8]) / 1e9)
            timeslices.add_metric([cpu], float(fields[9]))
        yield from (running, waiting, timeslices)
