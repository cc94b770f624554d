"""A fake /proc and /sys tree: the collectors' real parsing code run on known kernel output."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitoring.exporter.base import Settings

PROC_STAT = """cpu  100 0 50 1000 5 0 1 2 0 0
cpu0 60 0 30 500 3 0 1 1 10 0
cpu2 40 0 20 500 2 0 0 1 0 0
intr 12345 1 2 3
ctxt 999
btime 1700000000
processes 4242
procs_running 3
procs_blocked 1
"""
# the two header lines as the kernel writes them, shortened (the parser skips them)
NET_DEV = """Inter-|   Receive |  Transmit
 face |bytes packets errs drop fifo frame compressed multicast|bytes packets errs drop
    lo: 100 2 0 0 0 0 0 0 100 2 0 0 0 0 0 0
  eth0: 5000 50 1 2 3 4 5 6 7000 70 7 8 9 10 11 12
"""
DISKSTATS = """ 254       0 vda 10 1 80 4 20 2 160 8 0 12 16 1 0 8 2 5 3
 254       1 vda1 10 1 80 4 20 2 160 8 0 12 16 1 0 8 2 5 3
   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0
 253       0 dm-0 1 2 3 4 5 6 7 8 9 10 11
"""
MEMINFO = """MemTotal:        2048 kB
MemFree:         1024 kB
Active(anon):      10 kB
HugePages_Total:       0
"""


@pytest.fixture
def fake_root(tmp_path: Path) -> Path:
    proc = tmp_path / "proc"
    (proc / "net").mkdir(parents=True)
    (proc / "sys" / "kernel").mkdir(parents=True)
    (proc / "sys" / "fs").mkdir(parents=True)
    (proc / "1").mkdir()
    (proc / "stat").write_text(PROC_STAT)
    (proc / "net" / "dev").write_text(NET_DEV)
    (proc / "diskstats").write_text(DISKSTATS)
    (proc / "meminfo").write_text(MEMINFO)
    (proc / "sys" / "kernel" / "domainname").write_text("(none)\n")
    (proc / "sys" / "fs" / "file-nr").write_text("1024\t0\t9223372036854775807\n")
    stats = tmp_path / "sys" / "class" / "net" / "lo" / "statistics"
    stats.mkdir(parents=True)
    (stats / "rx_nohandler").write_text("7\n")
    return tmp_path


@pytest.fixture
def settings(fake_root: Path) -> Settings:
    return Settings(
        procfs=str(fake_root / "proc"),
        sysfs=str(fake_root / "sys"),
        textfile_directories=[str(fake_root / "textfile")],
    )


def _samples(families) -> dict[tuple, float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples}


@pytest.fixture
def samples():
    """samples(families) -> {(sample name, sorted label items): value}."""
    return _samples
