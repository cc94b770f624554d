"""The collectors; `ALL` maps a collector name to its class."""

from __future__ import annotations

from monitoring.exporter.base import Collector
from monitoring.exporter.collectors.arp import ARPCollector
from monitoring.exporter.collectors.conntrack import ConntrackCollector
from monitoring.exporter.collectors.cpu import CPUCollector
from monitoring.exporter.collectors.diskstats import DiskstatsCollector
from monitoring.exporter.collectors.entropy import EntropyCollector
from monitoring.exporter.collectors.filefd import FilefdCollector
from monitoring.exporter.collectors.filesystem import FilesystemCollector
from monitoring.exporter.collectors.loadavg import LoadavgCollector
from monitoring.exporter.collectors.meminfo import MeminfoCollector
from monitoring.exporter.collectors.netclass import NetclassCollector
from monitoring.exporter.collectors.netdev import NetdevCollector
from monitoring.exporter.collectors.netstat import NetstatCollector
from monitoring.exporter.collectors.os_release import OSCollector
from monitoring.exporter.collectors.pressure import PressureCollector
from monitoring.exporter.collectors.schedstat import SchedstatCollector
from monitoring.exporter.collectors.selinux import SELinuxCollector
from monitoring.exporter.collectors.sockstat import SockstatCollector
from monitoring.exporter.collectors.softnet import SoftnetCollector
from monitoring.exporter.collectors.stat import StatCollector
from monitoring.exporter.collectors.systemd import SystemdCollector
from monitoring.exporter.collectors.textfile import TextfileCollector
from monitoring.exporter.collectors.time import TimeCollector
from monitoring.exporter.collectors.timex import TimexCollector
from monitoring.exporter.collectors.tlscert import TLSCertCollector
from monitoring.exporter.collectors.udp_queues import UDPQueuesCollector
from monitoring.exporter.collectors.uname import UnameCollector
from monitoring.exporter.collectors.vmstat import VmstatCollector

ALL: dict[str, type[Collector]] = {
    c.name: c
    for c in (
        ARPCollector,
        CPUCollector,
        ConntrackCollector,
        DiskstatsCollector,
        EntropyCollector,
        FilefdCollector,
        FilesystemCollector,
        LoadavgCollector,
        MeminfoCollector,
        NetclassCollector,
        NetdevCollector,
        NetstatCollector,
        OSCollector,
        PressureCollector,
        SELinuxCollector,
        SchedstatCollector,
        SockstatCollector,
        SoftnetCollector,
        StatCollector,
        SystemdCollector,
        TLSCertCollector,
        TextfileCollector,
        TimeCollector,
        TimexCollector,
        UDPQueuesCollector,
        UnameCollector,
        VmstatCollector,
    )
}
