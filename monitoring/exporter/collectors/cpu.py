"""cpu: node_cpu_seconds_total and node_cpu_guest_seconds_total from /proc/stat.

psutil.cpu_times(percpu=True) is a positional list, so an offline CPU would shift every `cpu`
label; the kernel's own cpuN ids from /proc/stat are used instead.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily
from prometheus_client.metrics_core import Metric

from monitoring.exporter.base import Collector, Settings, read_text

MODES = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
GUEST_MODES = ("user", "nice")
USER_HZ = float(os.sysconf("SC_CLK_TCK"))
# an idle counter that jumps back this far means the CPU was hot-plugged (node_exporter's rule)
JUMP_BACK_SECONDS = 3.0


def parse_proc_stat_cpus(text: str) -> dict[str, list[float]]:
    """cpu id -> seconds in user, nice, system, idle, iowait, irq, softirq, steal, guest,
    guest_nice."""
    cpus: dict[str, list[float]] = {}
    for line in text.splitlines():
        if not line.startswith("cpu") or line.startswith("cpu "):
            continue
        fields = line.split()
        values = [int(v) / USER_HZ for v in fields[1:11]]
        values.extend([0.0] * (10 - len(values)))
        cpus[fields[0][3:]] = values
    return cpus


class CPUCollector(Collector):
    name = "cpu"
    description = "Seconds each CPU spent in each mode (/proc/stat)."

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        # concurrent scrapes share the monotonicity cache
        self._lock = threading.Lock()
        self._last: dict[str, list[float]] = {}

    def _monotonic(self, cpus: dict[str, list[float]]) -> dict[str, list[float]]:
        with self._lock:
            for cpu, values in cpus.items():
                previous = self._last.get(cpu)
                if previous is None or previous[3] - values[3] >= JUMP_BACK_SECONDS:
                    self._last[cpu] = list(values)
                    continue
                # a counter that goes backwards (kernel accounting jitter) keeps its old value
                for i, value in enumerate(values):
                    if value < previous[i]:
                        values[i] = previous[i]
                self._last[cpu] = list(values)
            for gone in set(self._last) - set(cpus):
                del self._last[gone]
        return cpus

    def collect(self) -> Iterable[Metric]:
        cpus = self._monotonic(parse_proc_stat_cpus(read_text(self.settings.proc("stat"))))
        seconds = CounterMetricFamily(
            "node_cpu_seconds_total", "Seconds the CPUs spent in each mode.", labels=["cpu", "mode"]
        )
        guest = CounterMetricFamily(
            "node_cpu_guest_seconds_total",
            "Seconds the CPUs spent in guests (VMs) for each mode.",
            labels=["cpu", "mode"],
        )
        for cpu, values in cpus.items():
            for mode, value in zip(MODES, values, strict=False):
                seconds.add_metric([cpu, mode], value)
            guest.add_metric([cpu, "user"], values[8])
            guest.add_metric([cpu, "nice"], values[9])
        yield seconds
        if self.settings.cpu_guest:
            yield guest
