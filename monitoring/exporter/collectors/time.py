"""time: wall clock, time zone offset and clocksources."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from monitoring.exporter.base import Collector, read_text


class TimeCollector(Collector):
    name = "time"
    description = "System time, time zone offset and clocksources."

    def collect(self) -> Iterable[Metric]:
        now = time.time_ns() / 1e9
        yield GaugeMetricFamily(
            "node_time_seconds", "System time in seconds since epoch (1970).", value=now
        )
        local = time.localtime(int(now))
        zone = GaugeMetricFamily(
            "node_time_zone_offset_seconds",
            "System time zone offset in seconds.",
            labels=["time_zone"],
        )
        zone.add_metric([local.tm_zone], float(local.tm_gmtoff))
        yield zone
        available = GaugeMetricFamily(
            "node_time_clocksource_available_info",
            "Available clocksources read from '/sys/devices/system/clocksource'.",
            labels=["clocksource", "device"],
        )
        current = GaugeMetricFamily(
            "node_time_clocksource_current_info",
            "Current clocksource read from '/sys/devices/system/clocksource'.",
            labels=["clocksource", "device"],
        )
        base = self.settings.sys("devices", "system", "clocksource")
        try:
            devices = sorted(d for d in os.listdir(base) if d.startswith("clocksource"))
        except OSError:
            devices = []
        for device in devices:
            number = device[len("clocksource") :]
            try:
                names = read_text(os.path.join(base, device, "available_clocksource")).split()
                active = read_text(os.path.join(base, device, "current_clocksource")).strip()
            except OSError:
                continue
            for name in names:
                available.add_metric([name, number], 1.0)
            current.add_metric([active, number], 1.0)
        yield available
        yield current
