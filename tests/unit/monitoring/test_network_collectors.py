"""The drop-in collectors added for node_exporter parity, on known kernel output.

Values against the real node_exporter are checked by the integration compatibility test; these
cover what this host cannot show: old kernels, missing modules, IPv6 off, odd sysfs files.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from monitoring.exporter.base import Filter, NoDataError
from monitoring.exporter.collectors.arp import ARPCollector
from monitoring.exporter.collectors.conntrack import ConntrackCollector
from monitoring.exporter.collectors.netclass import NetclassCollector
from monitoring.exporter.collectors.netstat import NetstatCollector
from monitoring.exporter.collectors.os_release import OSCollector
from monitoring.exporter.collectors.pressure import PressureCollector
from monitoring.exporter.collectors.schedstat import SchedstatCollector
from monitoring.exporter.collectors.sockstat import PAGE_SIZE, SockstatCollector
from monitoring.exporter.collectors.softnet import SoftnetCollector
from monitoring.exporter.collectors.udp_queues import UDPQueuesCollector

NETSTAT = """TcpExt: SyncookiesSent ListenDrops TCPOFOQueue DelayedACKs
TcpExt: 1 2 3 4
IpExt: InOctets OutOctets
IpExt: 100 200
"""
SNMP = """Tcp: RtoAlgorithm ActiveOpens CurrEstab InErrs
Tcp: 1 10 3 0
Udp: InDatagrams NoPorts
Udp: 5 6
"""
SNMP6 = "Ip6InOctets                     42\nUdpLite6InErrors 1\nIcmp6InMsgs 9\n"


def test_netstat_keeps_node_exporters_default_fields_untyped(settings, fake_root, samples):
    net = fake_root / "proc" / "net"
    (net / "netstat").write_text(NETSTAT)
    (net / "snmp").write_text(SNMP)
    (net / "snmp6").write_text(SNMP6)
    families = list(NetstatCollector(settings).collect())
    got = samples(families)
    assert {f.type for f in families} == {"unknown"}
    assert {name for name, _ in got} == {
        "node_netstat_TcpExt_SyncookiesSent", "node_netstat_TcpExt_ListenDrops",
        "node_netstat_TcpExt_TCPOFOQueue", "node_netstat_IpExt_InOctets",
        "node_netstat_IpExt_OutOctets", "node_netstat_Tcp_ActiveOpens",
        "node_netstat_Tcp_CurrEstab", "node_netstat_Tcp_InErrs", "node_netstat_Udp_InDatagrams",
        "node_netstat_Udp_NoPorts", "node_netstat_Ip6_InOctets",
        "node_netstat_UdpLite6_InErrors", "node_netstat_Icmp6_InMsgs",
    }  # fmt: skip
    assert got[("node_netstat_Ip6_InOctets", ())] == 42
    help_text = {f.name: f.documentation for f in families}
    assert help_text["node_netstat_Tcp_CurrEstab"] == "Statistic TcpCurrEstab."
    # IPv6 disabled: no snmp6 file, the IPv4 fields still come
    (net / "snmp6").unlink()
    assert ("node_netstat_Tcp_InErrs", ()) in samples(NetstatCollector(settings).collect())


def test_sockstat_counts_memory_in_pages_and_bytes(settings, fake_root, samples):
    net = fake_root / "proc" / "net"
    (net / "sockstat").write_text(
        "sockets: used 50\nTCP: inuse 3 orphan 0 tw 9 alloc 21 mem 82\nUDP: inuse 1 mem 2\n"
        "FRAG: inuse 0 memory 0\n"
    )
    got = samples(SockstatCollector(settings).collect())
    assert got[("node_sockstat_sockets_used", ())] == 50
    assert got[("node_sockstat_TCP_mem", ())] == 82
    assert got[("node_sockstat_TCP_mem_bytes", ())] == 82 * PAGE_SIZE
    assert got[("node_sockstat_FRAG_memory", ())] == 0
    assert ("node_sockstat_FRAG_memory_bytes", ()) not in got


@pytest.mark.parametrize(
    ("line", "cpu", "backlog"),
    [
        # kernel >= 5.10: 13+ columns, the CPU id in column 12 (cpu 3 here, cpus 0-2 offline)
        ("0000000a 00000001 00000002 0 0 0 0 0 00000004 00000005 00000006 00000007 00000003", "3", 7),
        # old kernels: 11 columns, the CPU is the line's position
        ("0000000a 00000001 00000002 0 0 0 0 0 00000004 00000005 00000006", "0", 0),
    ],
)  # fmt: skip
def test_softnet_per_cpu(settings, fake_root, samples, line, cpu, backlog):
    (fake_root / "proc" / "net" / "softnet_stat").write_text(line + "\n")
    got = samples(SoftnetCollector(settings).collect())
    assert got[("node_softnet_processed_total", (("cpu", cpu),))] == 10
    assert got[("node_softnet_times_squeezed_total", (("cpu", cpu),))] == 2
    assert got[("node_softnet_flow_limit_count_total", (("cpu", cpu),))] == 6
    assert got[("node_softnet_backlog_len", (("cpu", cpu),))] == backlog


def test_conntrack_sums_cpus_and_reports_no_data_without_the_module(settings, fake_root, samples):
    with pytest.raises(NoDataError):
        list(ConntrackCollector(settings).collect())
    netfilter = fake_root / "proc" / "sys" / "net" / "netfilter"
    netfilter.mkdir(parents=True)
    (netfilter / "nf_conntrack_count").write_text("339\n")
    (netfilter / "nf_conntrack_max").write_text("262144\n")
    (fake_root / "proc" / "net" / "stat").mkdir()
    (fake_root / "proc" / "net" / "stat" / "nf_conntrack").write_text(
        "entries found invalid drop early_drop\n00000153 00000001 0000000a 00000002 0\n"
        "00000153 00000002 00000000 00000001 0\n"
    )
    got = samples(ConntrackCollector(settings).collect())
    assert got[("node_nf_conntrack_entries", ())] == 339
    assert got[("node_nf_conntrack_entries_limit", ())] == 262144
    assert got[("node_nf_conntrack_stat_found", ())] == 3
    assert got[("node_nf_conntrack_stat_invalid", ())] == 10
    assert got[("node_nf_conntrack_stat_drop", ())] == 3


def test_pressure_totals_in_seconds_and_no_data_without_psi(settings, fake_root, samples):
    with pytest.raises(NoDataError):
        list(PressureCollector(settings).collect())
    pressure = fake_root / "proc" / "pressure"
    pressure.mkdir()
    (pressure / "cpu").write_text("some avg10=1.00 avg60=0 avg300=0 total=2500000\n")
    (pressure / "memory").write_text(
        "some avg10=0 avg60=0 avg300=0 total=10\nfull avg10=0 avg60=0 avg300=0 total=5000000\n"
    )
    (pressure / "io").write_text(
        "some avg10=0 avg60=0 avg300=0 total=0\nfull avg10=0 avg60=0 avg300=0 total=0\n"
    )
    got = samples(PressureCollector(settings).collect())
    assert got[("node_pressure_cpu_waiting_seconds_total", ())] == 2.5
    assert got[("node_pressure_memory_stalled_seconds_total", ())] == 5.0
    assert ("node_pressure_irq_stalled_seconds_total", ()) not in got  # kernel < 6.1


def test_udp_queues_sum_hex_queues_per_family(settings, fake_root, samples):
    header = "  sl  local_address rem_address   st tx_queue rx_queue tr\n"
    (fake_root / "proc" / "net" / "udp").write_text(
        header + "   0: 00000000:0044 00000000:0000 07 00000010:00000200 00:00000000\n"
        "   1: 00000000:0045 00000000:0000 07 00000001:00000000 00:00000000\n"
    )
    got = samples(UDPQueuesCollector(settings).collect())
    assert got[("node_udp_queues", (("ip", "v4"), ("queue", "tx")))] == 17
    assert got[("node_udp_queues", (("ip", "v4"), ("queue", "rx")))] == 512
    assert not any(dict(labels).get("ip") == "v6" for _, labels in got)


def test_arp_counts_entries_per_device_with_filters(settings, fake_root, samples):
    (fake_root / "proc" / "net" / "arp").write_text(
        "IP address HW type Flags HW address Mask Device\n"
        "10.0.0.1 0x1 0x2 aa:bb:cc:dd:ee:ff * eth0\n10.0.0.2 0x1 0x2 aa:bb:cc:dd:ee:01 * eth0\n"
        "10.1.0.1 0x1 0x2 aa:bb:cc:dd:ee:02 * wg0\n"
    )
    got = samples(ARPCollector(settings).collect())
    assert got == {
        ("node_arp_entries", (("device", "eth0"),)): 2,
        ("node_arp_entries", (("device", "wg0"),)): 1,
    }
    settings.arp_devices = Filter(include="^eth")
    assert len(samples(ARPCollector(settings).collect())) == 1


def _iface(root: Path, name: str, **attributes: str) -> None:
    directory = root / "sys" / "class" / "net" / name
    directory.mkdir(parents=True, exist_ok=True)
    for key, value in attributes.items():
        (directory / key).write_text(value + "\n")


def test_netclass_properties_skip_unreadable_ones(settings, fake_root, samples):
    _iface(fake_root, "eth0", operstate="up", flags="0x1003", mtu="1500", speed="1000",
           address="02:00:00:00:00:01", broadcast="ff:ff:ff:ff:ff:ff", duplex="full",
           carrier="1", carrier_changes="2", dev_id="0x0", ifalias="")  # fmt: skip
    # a down interface: the driver refuses carrier and speed (EINVAL); absent files alike
    _iface(fake_root, "ifb0", operstate="down", flags="0x82", mtu="1500", speed="-1")
    (fake_root / "sys" / "class" / "net" / "bonding_masters").write_text("\n")
    got = samples(NetclassCollector(settings).collect())
    assert got[("node_network_up", (("device", "eth0"),))] == 1
    assert got[("node_network_up", (("device", "ifb0"),))] == 0
    assert got[("node_network_speed_bytes", (("device", "eth0"),))] == 125_000_000
    assert got[("node_network_speed_bytes", (("device", "ifb0"),))] == -125_000
    assert got[("node_network_flags", (("device", "eth0"),))] == 0x1003
    assert ("node_network_carrier", (("device", "ifb0"),)) not in got
    info = {
        dict(labels)["device"]: dict(labels) for name, labels in got if name == "node_network_info"
    }
    assert info["eth0"]["adminstate"] == "up" and info["ifb0"]["adminstate"] == "down"
    assert info["eth0"]["duplex"] == "full" and info["ifb0"]["duplex"] == ""
    assert "bonding_masters" not in info
    settings.netclass_ignore_invalid_speed = True
    settings.netclass_ignored_devices = "^eth"
    got = samples(NetclassCollector(settings).collect())
    assert ("node_network_speed_bytes", (("device", "ifb0"),)) not in got
    assert ("node_network_up", (("device", "eth0"),)) not in got


def test_os_release_info_and_version(settings, fake_root, samples):
    etc = fake_root / "etc"
    etc.mkdir()
    (etc / "os-release").write_text(
        'PRETTY_NAME="Ubuntu 24.04.1 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\n'
        "ID=ubuntu\nID_LIKE=debian\n# comment\n"
    )
    settings.rootfs = str(fake_root)
    got = samples(OSCollector(settings).collect())
    version = [(k, v) for k, v in got.items() if k[0] == "node_os_version"]
    assert version == [
        (("node_os_version", (("id", "ubuntu"), ("id_like", "debian"), ("name", "Ubuntu"))), 24.04)
    ]
    info = next(dict(k[1]) for k in got if k[0] == "node_os_info")
    assert info["pretty_name"] == "Ubuntu 24.04.1 LTS" and info["variant"] == ""


def test_schedstat_nanoseconds_to_seconds(settings, fake_root, samples):
    with pytest.raises(NoDataError):
        list(SchedstatCollector(settings).collect())
    (fake_root / "proc" / "schedstat").write_text(
        "version 15\ntimestamp 4295\ncpu0 0 0 0 0 0 0 2000000000 500000000 42\ndomain0 3 1 2\n"
    )
    got = samples(SchedstatCollector(settings).collect())
    assert got[("node_schedstat_running_seconds_total", (("cpu", "0"),))] == 2.0
    assert got[("node_schedstat_waiting_seconds_total", (("cpu", "0"),))] == 0.5
    assert got[("node_schedstat_timeslices_total", (("cpu", "0"),))] == 42
