"""node_exporter's command line: a unit written for node_exporter runs ours unchanged, and a
flag that cannot apply is refused in one line naming it."""

from __future__ import annotations

import json
import subprocess
import threading
import urllib.error

import pytest

from monitoring.exporter import base
from monitoring.exporter.main import build_collectors
from monitoring.exporter.server import serve
from monitoring.exporter.webconfig import WebConfig


def test_a_node_exporter_command_line_runs_with_the_same_meaning(spawn, port, get, exporter_argv):
    listen, second = port(), port()
    proc = spawn(
        "exporter",
        [*exporter_argv, f"--web.listen-address=127.0.0.1:{listen}",
         f"--web.listen-address=127.0.0.1:{second}", "--log.level=debug", "--log.format=json",
         "--web.max-requests=10", "--runtime.gomaxprocs=1", "--no-collector.arp",
         "--no-collector.zfs", "--no-collector.mdadm", "--collector.netdev.device-exclude=^lo$",
         "--collector.diskstats.device-include=^nomatch$", "--no-collector.cpu.guest",
         "--collector.filesystem.ignored-mount-points=^/(dev|proc|sys|run)($|/)",
         "--collector.netstat.fields=^Tcp_CurrEstab$", "--collector.vmstat.fields=^oom_kill$",
         "--collector.textfile.directory=/nonexistent"],
        f"http://127.0.0.1:{listen}/metrics",
    )  # fmt: skip
    body = get(f"http://127.0.0.1:{second}/metrics")
    assert "node_load1 " in body
    assert "node_arp_entries" not in body and 'collector="arp"' not in body
    assert 'node_network_receive_bytes_total{device="lo"}' not in body
    assert "node_disk_reads_completed_total" not in body
    assert "node_cpu_guest_seconds_total" not in body
    assert "node_netstat_Tcp_CurrEstab " in body and "node_netstat_Tcp_InSegs" not in body
    assert "node_vmstat_oom_kill " in body and "node_vmstat_pgfault" not in body
    assert 'mountpoint="/run' not in body
    assert proc.poll() is None


@pytest.mark.parametrize(
    ("flag", "says"),
    [
        ("--collector.zfs", "the zfs collector is not implemented"),
        ("--collector.netdev.address-info", "node_network_address_info is not implemented"),
        ("--web.systemd-socket", "use --web.listen-address"),
        ("--log.level=verbose", "'verbose' is not one of"),
        ("--collector.filesystem.mount-points-include=^/$", "mutually exclusive"),
        ("--collector.netstat.fields=(", "not a valid regular expression"),
        ("--collector.no-such-thing", "unknown flag"),
    ],
)
def test_flags_that_cannot_apply_are_refused_in_one_line(exporter_argv, flag, says):
    argv = [*exporter_argv, flag, "--web.listen-address=127.0.0.1:1"]
    if "include" in flag:
        argv.append("--collector.filesystem.mount-points-exclude=^/boot")
    result = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert flag.split("=")[0] in lines[0] and says in lines[0], lines[0]


def test_max_requests_answers_503_beyond_the_limit(get):
    node, extras = build_collectors(base.Settings(), ["loadavg"], False)
    server = serve("127.0.0.1:0", node, extras, "/metrics", WebConfig(), None, max_requests=1)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/metrics"
    try:
        assert "node_load1 " in get(url)
        server.scrape_slots.acquire()  # one scrape in flight
        with pytest.raises(urllib.error.HTTPError) as refused:
            get(url)
        assert refused.value.code == 503
        assert b"Limit of concurrent requests reached (1)" in refused.value.read()
        server.scrape_slots.release()
        assert "node_load1 " in get(url)
    finally:
        server.shutdown()
        server.server_close()


def test_log_format_json(exporter_argv, port):
    listen = port()
    with subprocess.Popen(
        [*exporter_argv, f"--web.listen-address=127.0.0.1:{listen}", "--log.format=json"],
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        first = proc.stderr.readline()
        proc.terminate()
    record = json.loads(first)
    assert record["level"] == "info" and f"127.0.0.1:{listen}" in record["msg"]
