"""pressure: pressure stall information totals (/proc/pressure, kernel >= 4.20)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily
from prometheus_client.metrics_core import Metric

from monitoring.exporter.base import Collector, NoDataError, read_lines

# resource -> ((line kind, metric, HELP), ...); irq has only a "full" line (kernel >= 6.1)
METRICS = {
    "cpu": (
        (
            "some",
            "node_pressure_cpu_waiting_seconds_total",
            "Total time in seconds that processes have waited for CPU time",
        ),
    ),
    "io": (
        (
            "some",
            "node_pressure_io_waiting_seconds_total",
            "Total time in seconds that processes have waited due to IO congestion",
        ),
        (
            "full",
            "node_pressure_io_stalled_seconds_total",
            "Total time in seconds no process could make progress due to IO congestion",
        ),
    ),
    "memory": (
        (
            "some",
            "node_pressure_memory_waiting_seconds_total",
            "Total time in seconds that processes have waited for memory",
        ),
        (
            "full",
            "node_pressure_memory_stalled_seconds_total",
            "Total time in seconds no process could make progress due to memory congestion",
        ),
    ),
    "irq": (
        (
            "full",
            "node_pressure_irq_stalled_seconds_total",
            "Total time in seconds no process could make progress due to IRQ congestion",
        ),
    ),
}


def parse_psi(lines: list[str]) -> dict[str, float]:
    """{"some": total seconds, "full": ...} from a /proc/pressure file (totals are in us)."""
    totals = {}
    for line in lines:
        kind, _, rest = line.partition(" ")
        for field in rest.split():
            key, _, value = field.partition("=")
            if key == "total":
                totals[kind] = int(value) / 1e6
    return totals


class PressureCollector(Collector):
    name = "pressure"
    description = "Pressure stall information (/proc/pressure)."

    def collect(self) -> Iterable[Metric]:
        found = []
        for resource, metrics in METRICS.items():
            try:
                totals = parse_psi(read_lines(self.settings.proc("pressure", resource)))
            except FileNotFoundError:
                continue
            except OSError as exc:  # EOPNOTSUPP: built in but off (psi=0)
                raise NoDataError(f"pressure information is disabled: {exc}") from exc
            for kind, name, help_text in metrics:
                if kind not in totals:
                    raise NoDataError(f"/proc/pressure/{resource} has no {kind!r} line")
                found.append(CounterMetricFamily(name, help_text, value=totals[kind]))
        if not found:
            raise NoDataError("no /proc/pressure: needs Linux >= 4.20 with CONFIG_PSI")
        yield from found
