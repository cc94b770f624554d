from __future__ import annotations

from monitoring.exporter.collectors.cpu import CPUCollector
from monitoring.exporter.collectors.diskstats import DiskstatsCollector
from monitoring.exporter.collectors.meminfo import MeminfoCollector
from monitoring.exporter.collectors.netdev import NetdevCollector
from monitoring.exporter.collectors.stat import StatCollector


def test_cpu_uses_kernel_ids_not_positions(settings, samples):
    got = samples(CPUCollector(settings).collect())
    # cpu1 is offline: cpu2 keeps its own id
    assert got[("node_cpu_seconds_total", (("cpu", "2"), ("mode", "user")))] == 0.4
    assert ("node_cpu_seconds_total", (("cpu", "1"), ("mode", "user"))) not in got
    assert got[("node_cpu_guest_seconds_total", (("cpu", "0"), ("mode", "user")))] == 0.1
    assert len([k for k in got if k[0] == "node_cpu_seconds_total"]) == 16


def test_cpu_counter_going_backwards_keeps_old_value(settings, fake_root, samples):
    collector = CPUCollector(settings)
    list(collector.collect())
    stat = fake_root / "proc" / "stat"
    stat.write_text(stat.read_text().replace("cpu0 60 0 30", "cpu0 59 0 30"))
    got = samples(collector.collect())
    assert got[("node_cpu_seconds_total", (("cpu", "0"), ("mode", "user")))] == 0.6


def test_diskstats_excludes_partitions_and_scales_units(settings, samples):
    got = samples(DiskstatsCollector(settings).collect())
    devices = {dict(k[1]).get("device") for k in got}
    assert devices == {"vda", "dm-0"}
    assert got[("node_disk_read_bytes_total", (("device", "vda"),))] == 80 * 512
    assert got[("node_disk_io_time_weighted_seconds_total", (("device", "vda"),))] == 0.016
    assert got[("node_disk_flush_requests_total", (("device", "vda"),))] == 5
    # an old kernel's 11-field line: no discard/flush series for it
    assert ("node_disk_discards_completed_total", (("device", "dm-0"),)) not in got


def test_meminfo_names_follow_node_exporter(settings, samples):
    got = samples(MeminfoCollector(settings).collect())
    assert got[("node_memory_MemTotal_bytes", ())] == 2048 * 1024
    assert got[("node_memory_Active_anon_bytes", ())] == 10 * 1024
    assert got[("node_memory_HugePages_Total", ())] == 0


def test_netdev_survives_an_interface_without_sysfs(settings, samples):
    got = samples(NetdevCollector(settings).collect())
    assert got[("node_network_receive_nohandler_total", (("device", "lo"),))] == 7
    # eth0 vanished from /sys between the two reads: it just has no nohandler value
    assert ("node_network_receive_nohandler_total", (("device", "eth0"),)) not in got
    assert got[("node_network_transmit_carrier_total", (("device", "eth0"),))] == 11


def test_stat(settings, samples):
    got = samples(StatCollector(settings).collect())
    assert got[("node_boot_time_seconds", ())] == 1700000000
    assert got[("node_context_switches_total", ())] == 999
    assert got[("node_forks_total", ())] == 4242
    assert got[("node_procs_blocked", ())] == 1
