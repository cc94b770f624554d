"""What every collector shares: its settings, the /proc and /sys roots, and its base class."""

from __future__ import annotations

import abc
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar

from prometheus_client.metrics_core import Metric

NAMESPACE = "node"

# node_exporter >= 1.8 defaults (collector/filesystem_linux.go, diskstats_linux.go)
DEFAULT_MOUNT_POINTS_EXCLUDE = (
    r"^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)"
)
DEFAULT_FS_TYPES_EXCLUDE = (
    r"^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|"
    r"iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|"
    r"erofs|sysfs|tracefs)$"
)
DEFAULT_DISKSTATS_DEVICE_EXCLUDE = r"^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$"
# node_exporter >= 1.8 (collector/netstat_linux.go)
DEFAULT_NETSTAT_FIELDS = (
    r"^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|"
    r"TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts|TCPOFOQueue|TCPRcvQDrop)|"
    r"Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)|"
    r"Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$"
)
DEFAULT_VMSTAT_FIELDS = r"^(oom_kill|pgpg|pswp|pg.*fault).*"


@dataclass(frozen=True)
class Filter:
    """node_exporter's include/exclude regex pair: an include, when given, replaces the
    exclude (the two are mutually exclusive on the command line)."""

    include: str = ""
    exclude: str = ""

    def compiled(self) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
        if self.include:
            return re.compile(self.include), None
        return None, compile_optional(self.exclude)


def ignored(patterns: tuple[re.Pattern[str] | None, re.Pattern[str] | None], name: str) -> bool:
    include, exclude = patterns
    if include is not None:
        return not include.search(name)
    return exclude is not None and bool(exclude.search(name))


@dataclass
class Settings:
    """Everything a collector may be configured with; the CLI fills it from flags."""

    procfs: str = "/proc"
    sysfs: str = "/sys"
    rootfs: str = "/"
    udev_data: str = "/run/udev/data"
    mount_points: Filter = Filter(exclude=DEFAULT_MOUNT_POINTS_EXCLUDE)
    fs_types: Filter = Filter(exclude=DEFAULT_FS_TYPES_EXCLUDE)
    mount_timeout: float = 5.0
    diskstats_devices: Filter = Filter(exclude=DEFAULT_DISKSTATS_DEVICE_EXCLUDE)
    netdev_devices: Filter = Filter()
    netstat_fields: str = DEFAULT_NETSTAT_FIELDS
    vmstat_fields: str = DEFAULT_VMSTAT_FIELDS
    netclass_ignored_devices: str = "^$"
    netclass_ignore_invalid_speed: bool = False
    arp_devices: Filter = Filter()
    cpu_guest: bool = True
    textfile_directories: list[str] = field(
        default_factory=lambda: ["/var/lib/prometheus/node-exporter"]
    )
    tls_cert_files: list[str] = field(default_factory=list)
    systemd_units: list[str] = field(default_factory=list)
    systemctl: str = "systemctl"

    def proc(self, *parts: str) -> str:
        return os.path.join(self.procfs, *parts)

    def sys(self, *parts: str) -> str:
        return os.path.join(self.sysfs, *parts)

    def rooted(self, path: str) -> str:
        """A path seen by the host, under --path.rootfs (node_exporter's rootfsFilePath)."""
        return os.path.join(self.rootfs, path.lstrip("/"))


class NoDataError(Exception):
    """The host has nothing for this collector (no RAID, no bonding, no PSI): reported as
    node_scrape_collector_success 0 and logged at debug level, like node_exporter's ErrNoData."""


class Collector(abc.ABC):
    """One node_exporter collector: builds fresh metric families at every scrape."""

    name: ClassVar[str]
    description: ClassVar[str]
    default_enabled: ClassVar[bool] = True

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @abc.abstractmethod
    def collect(self) -> Iterable[Metric]:
        """Yield this collector's families; raising makes node_scrape_collector_success 0."""


def compile_optional(pattern: str) -> re.Pattern[str] | None:
    return re.compile(pattern) if pattern else None


def read_lines(path: str, missing_ok: bool = False) -> list[str]:
    """A /proc file's lines; with missing_ok, no file (IPv6 off, module not loaded) is []."""
    try:
        return read_text(path).splitlines()
    except FileNotFoundError:
        if missing_ok:
            return []
        raise


def read_text(path: str) -> str:
    """A whole /proc or /sys file; raw os.read skips io.open's buffering layers (~3x faster)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks).decode("utf-8", "replace")
