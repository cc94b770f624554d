"""diskstats: per-device I/O counters from /proc/diskstats.

psutil.disk_io_counters drops in-flight I/O, weighted I/O time (NodeDiskIOSaturation needs it),
discards and flushes, so the kernel file is read. Partitions are excluded by default.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from monitoring.exporter.base import Collector, Settings, ignored, read_text

SECTOR = 512.0
MS = 0.001
# (name, help, scale, is_counter) for /proc/diskstats fields 4.. in kernel order
FIELDS = (
    ("reads_completed_total", "The total number of reads completed successfully.", 1.0, True),
    ("reads_merged_total", "The total number of reads merged.", 1.0, True),
    ("read_bytes_total", "The total number of bytes read successfully.", SECTOR, True),
    ("read_time_seconds_total", "The total number of seconds spent by all reads.", MS, True),
    ("writes_completed_total", "The total number of writes completed successfully.", 1.0, True),
    ("writes_merged_total", "The number of writes merged.", 1.0, True),
    ("written_bytes_total", "The total number of bytes written successfully.", SECTOR, True),
    (
        "write_time_seconds_total",
        "This is the total number of seconds spent by all writes.",
        MS,
        True,
    ),
    ("io_now", "The number of I/Os currently in progress.", 1.0, False),
    ("io_time_seconds_total", "Total seconds spent doing I/Os.", MS, True),
    ("io_time_weighted_seconds_total", "The weighted # of seconds spent doing I/Os.", MS, True),
    ("discards_completed_total", "The total number of discards completed successfully.", 1.0, True),
    ("discards_merged_total", "The total number of discards merged.", 1.0, True),
    ("discarded_sectors_total", "The total number of sectors discarded successfully.", 1.0, True),
    (
        "discard_time_seconds_total",
        "This is the total number of seconds spent by all discards.",
        MS,
        True,
    ),
    (
        "flush_requests_total",
        "The total number of flush requests completed successfully",
        1.0,
        True,
    ),
    (
        "flush_requests_time_seconds_total",
        "This is the total number of seconds spent by all flush requests.",
        MS,
        True,
    ),
)
INFO_LABELS = ["device", "major", "minor", "path", "wwn", "model", "serial", "revision"]


def _udev(settings: Settings, major: str, minor: str) -> dict[str, str]:
    """udev's E: properties for a block device; empty when udev has no database (containers)."""
    props: dict[str, str] = {}
    try:
        text = read_text(os.path.join(settings.udev_data, f"b{major}:{minor}"))
    except OSError:
        return props
    for line in text.splitlines():
        if line.startswith("E:"):
            key, _, value = line[2:].partition("=")
            props[key] = value
    return props


class DiskstatsCollector(Collector):
    name = "diskstats"
    description = "Disk I/O statistics (/proc/diskstats); partitions excluded by default."

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._devices = settings.diskstats_devices.compiled()

    def collect(self) -> Iterable[Metric]:
        families: list[Metric] = [
            (CounterMetricFamily if counter else GaugeMetricFamily)(
                "node_disk_" + name, doc, labels=["device"]
            )
            for name, doc, _, counter in FIELDS
        ]
        info = GaugeMetricFamily(
            "node_disk_info", "Info of /sys/block/<block_device>.", labels=INFO_LABELS
        )
        for line in read_text(self.settings.proc("diskstats")).splitlines():
            fields = line.split()
            if len(fields) < 14 or ignored(self._devices, fields[2]):
                continue
            major, minor, device = fields[:3]
            udev = _udev(self.settings, major, minor)
            info.add_metric(
                [
                    device,
                    major,
                    minor,
                    udev.get("ID_PATH", ""),
                    udev.get("ID_WWN", ""),
                    udev.get("ID_MODEL", ""),
                    udev.get("ID_SERIAL_SHORT", ""),
                    udev.get("ID_REVISION", ""),
                ],
                1.0,
            )
            for family, (_, _, scale, _), raw in zip(families, FIELDS, fields[3:], strict=False):
                family.add_metric([device], float(raw) * scale)
        yield info
        yield from families
