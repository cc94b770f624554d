"""softnet: per-CPU packet processing statistics (/proc/net/softnet_stat)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from monitoring.exporter.base import Collector, read_lines

# (column, metric, HELP, counter?) in node_exporter's order
COLUMNS = (
    (0, "node_softnet_processed_total", "Number of processed packets", True),
    (1, "node_softnet_dropped_total", "Number of dropped packets", True),
    (2, "node_softnet_times_squeezed_total", "Number of times processing packets ran out of quota", True),
    (8, "node_softnet_cpu_collision_total", "Number of collision occur while obtaining device lock while transmitting", True),
    (9, "node_softnet_received_rps_total", "Number of times cpu woken up received_rps", True),
    (10, "node_softnet_flow_limit_count_total", "Number of times flow limit has been reached", True),
    (11, "node_softnet_backlog_len", "Softnet backlog status", False),
)  # fmt: skip


class SoftnetCollector(Collector):
    name = "softnet"
    description = "Per-CPU softirq packet statistics (/proc/net/softnet_stat)."

    def collect(self) -> Iterable[Metric]:
        families = [
            (CounterMetricFamily if counter else GaugeMetricFamily)(name, help_text, labels=["cpu"])
            for _, name, help_text, counter in COLUMNS
        ]
        for row, line in enumerate(read_lines(self.settings.proc("net", "softnet_stat"))):
            values = [int(v, 16) for v in line.split()]
            # kernels >= 5.10 name the CPU in column 12 (offline CPUs have no line)
            cpu = str(values[12]) if len(values) > 12 else str(row)
            for family, (column, *_) in zip(families, COLUMNS, strict=True):
                family.add_metric([cpu], float(values[column]) if column < len(values) else 0.0)
        yield from families
