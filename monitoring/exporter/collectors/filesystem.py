"""filesystem: size/free/avail/files/readonly/device_error per mount, like node_exporter >= 1.8.

Sizes use f_bsize as node_exporter does (psutil.disk_usage uses f_frsize and reports avail as
"free"), so os.statvfs is called directly. Each statvfs runs in a worker thread with a deadline:
a hung mount (dead NFS server) is reported with device_error="mountpoint timeout" and skipped
until its stuck call returns, so it never hangs the scrape.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from monitoring.exporter.base import Collector, Settings, read_text

LABELS = ["device", "mountpoint", "fstype", "device_error"]
STAT_WORKERS = 8
_ESCAPE = re.compile(r"\\([0-7]{3})")


@dataclass(frozen=True)
class Mount:
    device: str
    mountpoint: str
    fstype: str
    options: frozenset[str]


def _unescape(field: str) -> str:
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), field)


def parse_mountinfo(text: str) -> list[Mount]:
    """Mounts from /proc/<pid>/mountinfo; read-only comes from mount or super options."""
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        try:
            sep = fields.index("-", 6)
        except ValueError:
            continue
        options = set(fields[5].split(","))
        if len(fields) > sep + 3:
            options.update(fields[sep + 3].split(","))
        mounts.append(
            Mount(
                device=_unescape(fields[sep + 2]),
                mountpoint=_unescape(fields[4]),
                fstype=fields[sep + 1],
                options=frozenset(options),
            )
        )
    return mounts


class FilesystemCollector(Collector):
    name = "filesystem"
    description = "Filesystem size, free space and inodes per mount (statvfs, with a timeout)."
    statvfs = staticmethod(os.statvfs)

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._mount_exclude = re.compile(settings.mount_points_exclude)
        self._fs_exclude = re.compile(settings.fs_types_exclude)
        self._pool = ThreadPoolExecutor(STAT_WORKERS, thread_name_prefix="statvfs")
        self._lock = threading.Lock()
        # mountpoint -> the statvfs call still stuck on it
        self._stuck: dict[str, Future[os.statvfs_result]] = {}

    def _mounts(self) -> list[Mount]:
        try:
            text = read_text(self.settings.proc("1", "mountinfo"))
        except OSError:
            # hidepid=2 hides PID 1 from unprivileged users
            text = read_text(self.settings.proc("self", "mountinfo"))
        return [
            m
            for m in parse_mountinfo(text)
            if not self._mount_exclude.search(m.mountpoint)
            and not self._fs_exclude.search(m.fstype)
        ]

    def _start(self, mount: Mount) -> Future[os.statvfs_result] | None:
        with self._lock:
            stuck = self._stuck.get(mount.mountpoint)
            if stuck is not None:
                if not stuck.done():
                    return None
                del self._stuck[mount.mountpoint]
        return self._pool.submit(self.statvfs, self.settings.rooted(mount.mountpoint))

    def collect(self) -> Iterable[Metric]:
        families = {
            key: GaugeMetricFamily(f"node_filesystem_{key}", doc, labels=LABELS)
            for key, doc in (
                ("size_bytes", "Filesystem size in bytes."),
                ("free_bytes", "Filesystem free space in bytes."),
                ("avail_bytes", "Filesystem space available to non-root users in bytes."),
                ("files", "Filesystem total file nodes."),
                ("files_free", "Filesystem total free file nodes."),
                ("readonly", "Filesystem read-only status."),
                (
                    "device_error",
                    "Whether an error occurred while getting statistics for the given device.",
                ),
            )
        }
        mounts = self._mounts()
        started = [(m, self._start(m)) for m in mounts]
        seen: set[tuple[str, str, str]] = set()
        for mount, future in started:
            key = (mount.device, mount.mountpoint, mount.fstype)
            if key in seen:
                continue
            seen.add(key)
            readonly = 1.0 if "ro" in mount.options else 0.0
            stat, error = self._wait(mount, future)
            labels = [mount.device, mount.mountpoint, mount.fstype, error]
            families["device_error"].add_metric(labels, 1.0 if error else 0.0)
            families["readonly"].add_metric(labels, readonly)
            if stat is None:
                continue
            families["size_bytes"].add_metric(labels, float(stat.f_blocks * stat.f_bsize))
            families["free_bytes"].add_metric(labels, float(stat.f_bfree * stat.f_bsize))
            families["avail_bytes"].add_metric(labels, float(stat.f_bavail * stat.f_bsize))
            families["files"].add_metric(labels, float(stat.f_files))
            families["files_free"].add_metric(labels, float(stat.f_ffree))
        order = ("avail_bytes", "device_error", "files", "files_free", "free_bytes", "readonly")
        for key in (*order, "size_bytes"):
            yield families[key]

    def _wait(
        self, mount: Mount, future: Future[os.statvfs_result] | None
    ) -> tuple[os.statvfs_result | None, str]:
        if future is None:
            return None, "mountpoint timeout"
        try:
            return future.result(timeout=self.settings.mount_timeout), ""
        except FutureTimeout:
            with self._lock:
                self._stuck[mount.mountpoint] = future
            return None, "mountpoint timeout"
        except OSError as exc:
            # Go spells errno strings in lower case ("permission denied")
            return None, (exc.strerror or str(exc)).lower()
