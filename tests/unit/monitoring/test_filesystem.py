"""The filesystem collector: mount parsing, errors and the stuck-mount timeout."""

from __future__ import annotations

import os
import threading

from monitoring.exporter.collectors.filesystem import FilesystemCollector, parse_mountinfo

MOUNTINFO = (
    "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
    "23 22 254:0 / /srv/my\\040files rw shared:2 - ext4 /dev/vdb ro,errors=remount-ro\n"
    "24 22 0:5 / /proc rw - proc proc rw\n"
    "25 22 0:6 / /run rw - tmpfs tmpfs rw,size=1024k\n"
    "26 22 0:7 / /var/lib/docker/overlay2/x rw - overlay overlay rw\n"
    "27 22 0:8 / /gone rw - ext4 /dev/vdc rw\n"
)


def test_mountinfo_unescapes_and_reads_super_options():
    mounts = {m.mountpoint: m for m in parse_mountinfo(MOUNTINFO)}
    assert "ro" in mounts["/srv/my files"].options
    assert mounts["/run"].fstype == "tmpfs"


def collector(settings, fake_root, statvfs):
    (fake_root / "proc" / "1" / "mountinfo").write_text(MOUNTINFO)
    settings.mount_timeout = 0.2

    class Collector(FilesystemCollector):
        pass

    Collector.statvfs = staticmethod(statvfs)
    return Collector(settings)


def test_exclusions_errors_and_readonly(settings, fake_root, samples):
    real = os.statvfs("/")

    def statvfs(path):
        if path == "/gone":
            raise FileNotFoundError(2, "No such file or directory")
        return real

    got = samples(collector(settings, fake_root, statvfs).collect())
    mountpoints = {dict(k[1])["mountpoint"] for k in got}
    # /proc (mount point and type) and the docker overlay are excluded; tmpfs is kept
    assert mountpoints == {"/", "/srv/my files", "/run", "/gone"}
    gone = (("device", "/dev/vdc"), ("device_error", "no such file or directory"),
            ("fstype", "ext4"), ("mountpoint", "/gone"))  # fmt: skip
    assert got[("node_filesystem_device_error", gone)] == 1
    assert ("node_filesystem_size_bytes", gone) not in got
    ro = (("device", "/dev/vdb"), ("device_error", ""), ("fstype", "ext4"),
          ("mountpoint", "/srv/my files"))  # fmt: skip
    assert got[("node_filesystem_readonly", ro)] == 1
    assert got[("node_filesystem_size_bytes", ro)] == real.f_blocks * real.f_bsize


def test_a_hung_mount_times_out_and_stays_skipped_until_it_returns(settings, fake_root, samples):
    # a real hung mount needs a dead NFS/FUSE server; a statvfs that blocks on an event is the
    # same thing as seen from the collector
    release = threading.Event()
    calls: list[str] = []
    real = os.statvfs("/")

    def statvfs(path):
        calls.append(path)
        if path == "/srv/my files":
            release.wait(30)
        return real

    fs = collector(settings, fake_root, statvfs)
    stuck = (("device", "/dev/vdb"), ("device_error", "mountpoint timeout"), ("fstype", "ext4"),
             ("mountpoint", "/srv/my files"))  # fmt: skip
    first = samples(fs.collect())
    assert first[("node_filesystem_device_error", stuck)] == 1
    root = (("device", "/dev/vda"), ("device_error", ""), ("fstype", "ext4"), ("mountpoint", "/"))
    assert first[("node_filesystem_size_bytes", root)] == real.f_blocks * real.f_bsize
    second = samples(fs.collect())
    assert second[("node_filesystem_device_error", stuck)] == 1
    assert calls.count("/srv/my files") == 1, "a stuck mount must not be statted again"
    release.set()
    fs._stuck["/srv/my files"].result(timeout=5)
    third = samples(fs.collect())
    assert ("node_filesystem_device_error", stuck) not in third
