"""Our exporter against the real node_exporter (Debian's prometheus-node-exporter) on this machine.

Both run side by side on loopback with the same collectors, exclusions and textfile directory.
Our scrape is taken between two node_exporter scrapes so counters must fall inside that bracket
and gauges inside it plus a per-family tolerance.

Debian 12 ships node_exporter 1.5; we implement >= 1.8. The differences, handled explicitly here:
- filesystem: >= 1.8 adds the `device_error` label (always "" for a healthy mount) -> dropped
  from our label sets after checking it is "" on every mount node_exporter also reports.
- diskstats: 1.8 added zram to the default device exclude, and Debian patches the defaults
  (mount points /run, /mnt, /media excluded; netdev excludes lo) -> both exporters are given
  upstream >= 1.8 defaults explicitly.
- softnet: >= 1.8 adds cpu_collision, received_rps, flow_limit_count and backlog_len; netclass:
  >= 1.8 adds the `adminstate` label to node_network_info -> checked against the interface's
  flags, then dropped from our output; the four softnet families are checked for shape only.
- netstat: >= 1.8 keeps TcpExt_TCPOFOQueue and TcpExt_TCPRcvQDrop by default -> node_exporter
  is given our (>= 1.8) --collector.netstat.fields so both keep the same fields.
- exporter self-metrics (go_*, promhttp_*, node_exporter_build_info vs python_*,
  eyeshots_exporter_build_info) are not node metrics and are left out.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from monitoring.exporter import base

NODE_EXPORTER = shutil.which("prometheus-node-exporter")
COLLECTORS = [
    "arp", "conntrack", "cpu", "diskstats", "entropy", "filefd", "filesystem", "loadavg",
    "meminfo", "netclass", "netdev", "netstat", "os", "pressure", "schedstat", "selinux",
    "sockstat", "softnet", "stat", "textfile", "time", "timex", "udp_queues", "uname", "vmstat",
]  # fmt: skip
NEWER_THAN_1_5 = {
    "node_softnet_cpu_collision_total",
    "node_softnet_received_rps_total",
    "node_softnet_flow_limit_count_total",
    "node_softnet_backlog_len",
}
TEXTFILE = """# HELP eyeshots_backup_last_success_timestamp_seconds Last successful backup.
# TYPE eyeshots_backup_last_success_timestamp_seconds gauge
eyeshots_backup_last_success_timestamp_seconds{repository="local"} 1.7e+09
# TYPE eyeshots_backup_runs_total counter
eyeshots_backup_runs_total{result="ok"} 12
eyeshots_backup_runs_total{result="failed"} 1
role{role="web"} 1
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.5"} 0.05
rpc_duration_seconds_sum 17
rpc_duration_seconds_count 100
# TYPE request_size_bytes histogram
request_size_bytes_bucket{le="100"} 3
request_size_bytes_bucket{le="+Inf"} 5
request_size_bytes_sum 420
request_size_bytes_count 5
"""
# gauge families that move on a busy machine: (relative, absolute) slack beyond the bracket
GAUGE_SLACK = {
    "node_memory_": (0.02, 16 * 2**20),
    "node_filesystem_free_bytes": (0.001, 256 * 2**20),
    "node_filesystem_avail_bytes": (0.001, 256 * 2**20),
    "node_filesystem_files_free": (0.001, 10000),
    "node_procs_": (0.0, 8),
    "node_filefd_allocated": (0.05, 500),
    "node_load": (0.0, 0.5),
    "node_disk_io_now": (0.0, 8),
    # the kernel's clock discipline keeps moving between the reads
    "node_timex_offset_seconds": (0.0, 0.001),
    "node_timex_maxerror_seconds": (0.0, 0.01),
    "node_timex_estimated_error_seconds": (0.0, 0.001),
    "node_timex_frequency_adjustment_ratio": (0.0, 1e-6),
    # sockets, connections and conntrack entries come and go with the scrapes themselves
    "node_sockstat_": (0.1, 64 * 4096),
    "node_netstat_Tcp_CurrEstab": (0.0, 16),
    "node_nf_conntrack_entries": (0.1, 64),
    "node_arp_entries": (0.0, 2),
    "node_udp_queues": (0.0, 2**20),
}
SKIP_VALUES = ("node_scrape_collector_duration_seconds",)
Series = dict[str, dict[frozenset, float]]


def parse(text: str) -> tuple[Series, dict[str, str]]:
    series: Series = {}
    types: dict[str, str] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if not sample.name.startswith(("node_", "eyeshots_", "role", "rpc_", "request_")):
                continue
            if sample.name in ("node_exporter_build_info", "eyeshots_exporter_build_info"):
                continue
            types[sample.name] = family.type
            series.setdefault(sample.name, {})[frozenset(sample.labels.items())] = sample.value
    return series, types


def drop_device_error(series: Series) -> Series:
    out: Series = {}
    for name, samples in series.items():
        if not name.startswith("node_filesystem_"):
            out[name] = samples
            continue
        out[name] = {}
        for labels, value in samples.items():
            as_dict = dict(labels)
            assert as_dict.pop("device_error") == "", f"{name}{as_dict} reports a device error"
            out[name][frozenset(as_dict.items())] = value
    return out


def drop_newer_than_1_5(series: Series) -> Series:
    out: Series = {}
    for name, samples in series.items():
        if name in NEWER_THAN_1_5:
            assert {tuple(dict(labels)) for labels in samples} == {("cpu",)}, name
            continue
        if name != "node_network_info":
            out[name] = samples
            continue
        out[name] = {}
        for labels, value in samples.items():
            as_dict = dict(labels)
            flags = series["node_network_flags"][frozenset({("device", as_dict["device"])})]
            assert as_dict.pop("adminstate") == ("up" if int(flags) & 1 else "down"), as_dict
            out[name][frozenset(as_dict.items())] = value
    return out


def label_sets(series: Series) -> dict[str, set[frozenset]]:
    return {name: set(samples) for name, samples in series.items()}


@pytest.fixture
def exporters(spawn, port, exporter_argv, tmp_path: Path):
    assert NODE_EXPORTER, "prometheus-node-exporter missing: apt-get install it (tests/packages.d)"
    textfiles = tmp_path / "textfile"
    textfiles.mkdir()
    (textfiles / "backup.prom").write_text(TEXTFILE)
    (textfiles / "broken.prom").write_text("this is not { exposition\n")
    shared = [
        f"--collector.textfile.directory={textfiles}",
        f"--collector.filesystem.mount-points-exclude={base.DEFAULT_MOUNT_POINTS_EXCLUDE}",
        f"--collector.filesystem.fs-types-exclude={base.DEFAULT_FS_TYPES_EXCLUDE}",
        f"--collector.diskstats.device-exclude={base.DEFAULT_DISKSTATS_DEVICE_EXCLUDE}",
        f"--collector.netstat.fields={base.DEFAULT_NETSTAT_FIELDS}",
        "--collector.disable-defaults",
        *[f"--collector.{name}" for name in COLLECTORS],
    ]
    theirs, ours = port(), port()
    spawn(
        "node_exporter",
        [NODE_EXPORTER, f"--web.listen-address=127.0.0.1:{theirs}",
         "--collector.netdev.device-exclude=^$", *shared],
        f"http://127.0.0.1:{theirs}/metrics",
    )  # fmt: skip
    spawn(
        "eyeshots_exporter",
        [*exporter_argv, f"--web.listen-address=127.0.0.1:{ours}", *shared],
        f"http://127.0.0.1:{ours}/metrics",
    )
    return f"http://127.0.0.1:{theirs}/metrics", f"http://127.0.0.1:{ours}/metrics"


def bracketed_scrapes(get, theirs: str, ours: str) -> tuple[Series, Series, Series, dict, dict]:
    """node_exporter, us, node_exporter again; retried while mounts/interfaces churn."""
    deadline = time.monotonic() + 30
    while True:
        first, their_types = parse(get(theirs))
        mine_raw, my_types = parse(get(ours))
        second, _ = parse(get(theirs))
        mine = drop_newer_than_1_5(drop_device_error(mine_raw))
        stable = label_sets(first) == label_sets(second)
        if (stable and label_sets(mine) == label_sets(first)) or time.monotonic() > deadline:
            return first, mine, second, their_types, my_types


def test_same_names_types_labels_and_values(exporters, get):
    theirs, ours = exporters
    first, mine, second, their_types, my_types = bracketed_scrapes(get, theirs, ours)

    assert set(mine) == set(first), (
        f"only ours: {set(mine) - set(first)}, only theirs: {set(first) - set(mine)}"
    )
    for name in first:
        assert my_types[name] == their_types[name], (
            f"{name}: type {my_types[name]} != {their_types[name]}"
        )
        assert set(mine[name]) == set(first[name]), (
            f"{name}: only ours {set(mine[name]) - set(first[name])}, "
            f"only theirs {set(first[name]) - set(mine[name])}"
        )

    checked = 0
    for name, samples in mine.items():
        if name in SKIP_VALUES:
            continue
        monotonic = my_types[name] in ("counter", "unknown") and name.startswith(
            (
                "node_cpu",
                "node_disk_",
                "node_network_",
                "node_vmstat_",
                "node_intr",
                "node_context",
                "node_forks",
            )
        )
        rel, absolute = next(
            (slack for prefix, slack in GAUGE_SLACK.items() if name.startswith(prefix)), (0.0, 1e-6)
        )
        if name == "node_time_seconds":
            rel, absolute = 0.0, 0.5
        for labels, value in samples.items():
            low, high = sorted((first[name][labels], second[name][labels]))
            if monotonic:
                # counters only grow: ours was read between the two node_exporter reads
                assert low - 0.011 <= value <= high + 0.011, (
                    f"{name}{dict(labels)}: {value} not in [{low}, {high}]"
                )
            else:
                slack = rel * abs(high) + absolute
                assert low - slack <= value <= high + slack, (
                    f"{name}{dict(labels)}: {value} not in [{low}, {high}] +- {slack}"
                )
            checked += 1
    assert checked > 200
    # the broken file is reported the same way by both
    assert mine["node_textfile_scrape_error"][frozenset()] == 1.0
