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
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from monitoring.exporter.base import Collector, Settings, ignored, read_text

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
        self._mount_points = settings.mount_points.compiled()
        self._fs_types = settings.fs_types.compiled()
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
            if not ignored(self._mount_points, m.mountpoint)
            and not ignored(self._fs_types, m.fstype)
        ]

    def _statvfs_all(self, mounts: list[Mount], done: list[os.statvfs_result | OSError]) -> None:
        for mount in mounts:
            try:
                done.append(self.statvfs(self.settings.rooted(mount.mountpoint)))
            except OSError as exc:
                done.append(exc)

    def _stat(self, mounts: list[Mount]) -> dict[str, os.statvfs_result | OSError | None]:
        """mountpoint -> statvfs result, its error, or None for a mount that is stuck.

        All mounts are statted in order by one worker call (one thread hand-off per scrape). If
        that call misses the deadline, the mount it is blocked on is the stuck one; the mounts
        after it are then statted in parallel, each with its own deadline. So a newly hung mount
        costs at most two timeouts once, and is skipped until its call returns.
        """
        with self._lock:
            for mountpoint, future in list(self._stuck.items()):
                if future.done():
                    del self._stuck[mountpoint]
            stuck = set(self._stuck)
        todo = [m for m in mounts if m.mountpoint not in stuck]
        results: dict[str, os.statvfs_result | OSError | None] = dict.fromkeys(stuck)
        done: list[os.statvfs_result | OSError] = []
        batch = self._pool.submit(self._statvfs_all, todo, done)
        try:
            batch.result(timeout=self.settings.mount_timeout)
        except FutureTimeout:
            pass
        finished = list(done)
        for mount, result in zip(todo, finished, strict=False):
            results[mount.mountpoint] = result
        if len(finished) == len(todo):
            return results
        hung = todo[len(finished)]
        with self._lock:
            self._stuck[hung.mountpoint] = batch
        results[hung.mountpoint] = None
        rest = todo[len(finished) + 1 :]
        singles = [
            (m, self._pool.submit(self.statvfs, self.settings.rooted(m.mountpoint))) for m in rest
        ]
        deadline = time.monotonic() + self.settings.mount_timeout
        for mount, future in singles:
            try:
                results[mount.mountpoint] = future.result(
                    timeout=max(0.0, deadline - time.monotonic())
                )
            except FutureTimeout:
                with self._lock:
                    self._stuck[mount.mountpoint] = future
                results[mount.mountpoint] = None
            except OSError as exc:
                results[mount.mountpoint] = exc
        return results

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
        stats = self._stat(mounts)
        seen: set[tuple[str, str, str]] = set()
        for mount in mounts:
            key = (mount.device, mount.mountpoint, mount.fstype)
            if key in seen:
                continue
            seen.add(key)
            readonly = 1.0 if "ro" in mount.options else 0.0
            stat = stats.get(mount.mountpoint)
            if stat is None:
                error = "mountpoint timeout"
            elif isinstance(stat, OSError):
                # Go spells errno strings in lower case ("permission denied")
                error = (stat.strerror or str(stat)).lower()
            else:
                error = ""
            labels = [mount.device, mount.mountpoint, mount.fstype, error]
            families["device_error"].add_metric(labels, 1.0 if error else 0.0)
            families["readonly"].add_metric(labels, readonly)
            if error or not isinstance(stat, os.statvfs_result):
                continue
            families["size_bytes"].add_metric(labels, float(stat.f_blocks * stat.f_bsize))
            families["free_bytes"].add_metric(labels, float(stat.f_bfree * stat.f_bsize))
            families["avail_bytes"].add_metric(labels, float(stat.f_bavail * stat.f_bsize))
            families["files"].add_metric(labels, float(stat.f_files))
            families["files_free"].add_metric(labels, float(stat.f_ffree))
        order = ("avail_bytes", "device_error", "files", "files_free", "free_bytes", "readonly")
        for key in (*order, "size_bytes"):
            yield families[key]
