"""The collectors, in node_exporter's order; `ALL` maps a collector name to its class."""

from __future__ import annotations

from monitoring.exporter.base import Collector
from monitoring.exporter.collectors.apt import AptCollector
from monitoring.exporter.collectors.cpu import CPUCollector
from monitoring.exporter.collectors.diskstats import DiskstatsCollector
from monitoring.exporter.collectors.filefd import FilefdCollector
from monitoring.exporter.collectors.filesystem import FilesystemCollector
from monitoring.exporter.collectors.loadavg import LoadavgCollector
from monitoring.exporter.collectors.meminfo import MeminfoCollector
from monitoring.exporter.collectors.netdev import NetdevCollector
from monitoring.exporter.collectors.stat import StatCollector
from monitoring.exporter.collectors.systemd import SystemdCollector
from monitoring.exporter.collectors.textfile import TextfileCollector
from monitoring.exporter.collectors.time import TimeCollector
from monitoring.exporter.collectors.timex import TimexCollector
from monitoring.exporter.collectors.tlscert import TLSCertCollector
from monitoring.exporter.collectors.uname import UnameCollector
from monitoring.exporter.collectors.vmstat import VmstatCollector

ALL: dict[str, type[Collector]] = {
    c.name: c
    for c in (
        AptCollector,
        CPUCollector,
        DiskstatsCollector,
        FilefdCollector,
        FilesystemCollector,
        LoadavgCollector,
        MeminfoCollector,
        NetdevCollector,
        StatCollector,
        SystemdCollector,
        TextfileCollector,
        TimeCollector,
        TimexCollector,
        TLSCertCollector,
        UnameCollector,
        VmstatCollector,
    )
}
