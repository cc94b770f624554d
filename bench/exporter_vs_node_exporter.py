"""Benchmark: eyeshots-exporter vs Debian's node_exporter on this host, each with its default
collectors, one run.

Scrapes as Prometheus does (one kept-alive connection each, gzip), interleaved so both see the
same machine load, and prints scrape latency p50/p95, CPU time per scrape and RSS for both with
our/their ratios; then, from one scrape of each, the share of node_exporter's series we serve
and the "Node Exporter Full" (1860) panels with data for each.
Goals (issue 19): p50 and CPU per scrape ratios <= 1.0, RSS <= 30 MB.

    uv run python bench/exporter_vs_node_exporter.py [--scrapes 300]
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

from monitoring.dashboards.selectors import matches, panels_with_data, parse_selector

PANELS = Path(__file__).resolve().parents[1] / "tests/integration/monitoring/node_exporter_full.yml"
# not node metrics: each exporter's own process and build, and the per-collector bookkeeping
SELF = ("go_", "promhttp_", "process_", "python_", "node_exporter_build_info",
        "eyeshots_exporter_build_info", "node_scrape_collector_")  # fmt: skip
# labels node_exporter >= 1.8 added that Debian's 1.5 does not have
NEWER_LABELS = {"device_error", "adminstate"}
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def wait_ready(url: str, proc: subprocess.Popen) -> None:
    end = time.monotonic() + 30
    while time.monotonic() < end:
        if proc.poll() is not None:
            sys.exit(f"{proc.args[0]} exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"{url} did not answer within 30 s")


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scrapes", type=int, default=300, help="scrapes per exporter")
    args = parser.parse_args()
    node_exporter = shutil.which("prometheus-node-exporter") or shutil.which("node_exporter")
    if node_exporter is None:
        sys.exit("node_exporter not found: apt-get install prometheus-node-exporter")

    textfiles = tempfile.mkdtemp(prefix="bench-textfile-")
    shared = [f"--collector.textfile.directory={textfiles}"]
    ports = {"eyeshots-exporter": free_port(), "node_exporter": free_port()}
    argv = {
        "eyeshots-exporter": [sys.executable, "-m", "monitoring.exporter"],
        "node_exporter": [node_exporter],
    }
    procs = {
        name: subprocess.Popen(
            [*argv[name], f"--web.listen-address=127.0.0.1:{ports[name]}", *shared],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name in argv
    }
    results: dict[str, dict[str, float]] = {}
    try:
        urls = {name: f"http://127.0.0.1:{port}/metrics" for name, port in ports.items()}
        for name, url in urls.items():
            wait_ready(url, procs[name])
            for _ in range(20):  # warm-up: imports, caches, Go runtime
                urllib.request.urlopen(url).read()
        latencies: dict[str, list[float]] = {name: [] for name in urls}
        # one kept-alive connection each, gzip asked for: what a Prometheus scrape looks like
        connections = {
            name: http.client.HTTPConnection("127.0.0.1", port) for name, port in ports.items()
        }
        cpu_start = {name: cpu_seconds(procs[name].pid) for name in urls}
        sizes: dict[str, int] = {}
        texts = {name: urllib.request.urlopen(url).read().decode() for name, url in urls.items()}
        for _ in range(args.scrapes):
            # interleaved so both see the same machine load
            for name, connection in connections.items():
                start = time.perf_counter()
                connection.request("GET", "/metrics", headers={"Accept-Encoding": "gzip"})
                response = connection.getresponse()
                body = response.read()
                latencies[name].append(time.perf_counter() - start)
                assert response.status == 200, (name, response.status)
                sizes[name] = len(body)
        for name in urls:
            results[name] = {
                "p50_ms": percentile(latencies[name], 50) * 1000,
                "p95_ms": percentile(latencies[name], 95) * 1000,
                "cpu_ms_per_scrape": (cpu_seconds(procs[name].pid) - cpu_start[name])
                / args.scrapes
                * 1000,
                "rss_mb": rss_bytes(procs[name].pid) / 2**20,
                "gzip_body_kb": sizes[name] / 1024,
            }
    finally:
        for proc in procs.values():
            proc.terminate()
            proc.wait(timeout=10)
        shutil.rmtree(textfiles, ignore_errors=True)

    ours, theirs = results["eyeshots-exporter"], results["node_exporter"]
    print(f"{args.scrapes} scrapes each, each exporter with its default collectors")
    print(f"{'':22}{'eyeshots-exporter':>18}{'node_exporter':>15}{'ratio':>8}")
    for key in ("p50_ms", "p95_ms", "cpu_ms_per_scrape", "rss_mb", "gzip_body_kb"):
        print(f"{key:22}{ours[key]:18.2f}{theirs[key]:15.2f}{ours[key] / theirs[key]:8.2f}")
    print(
        f"goals: p50 ratio <= 1.0: {'met' if ours['p50_ms'] <= theirs['p50_ms'] else 'NOT met'}; "
        f"CPU ratio <= 1.0: "
        f"{'met' if ours['cpu_ms_per_scrape'] <= theirs['cpu_ms_per_scrape'] else 'NOT met'}; "
        f"RSS <= 30 MB: {'met' if ours['rss_mb'] <= 30 else 'NOT met'}"
    )
    report_coverage(texts["eyeshots-exporter"], texts["node_exporter"])


def node_series(text: str) -> dict[str, list[dict[str, str]]]:
    """name -> label sets of the node metrics in a scrape (>= 1.8-only labels dropped)."""
    series: dict[str, list[dict[str, str]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if not sample.name.startswith(SELF):
                labels = {k: v for k, v in sample.labels.items() if k not in NEWER_LABELS}
                series.setdefault(sample.name, []).append(labels)
    return series


def report_coverage(ours_text: str, theirs_text: str) -> None:
    ours, theirs = node_series(ours_text), node_series(theirs_text)
    key = lambda name, labels: (name, tuple(sorted(labels.items())))  # noqa: E731
    theirs_keys = {key(n, ls) for n, sets in theirs.items() for ls in sets}
    ours_keys = {key(n, ls) for n, sets in ours.items() for ls in sets}
    shared = theirs_keys & ours_keys
    print(
        f"series: node_exporter {len(theirs_keys)}, ours {len(ours_keys)}, "
        f"coverage {100 * len(shared) / len(theirs_keys):.1f}% of node_exporter's"
    )
    missing: dict[str, int] = {}
    for name, _ in theirs_keys - ours_keys:
        missing[name] = missing.get(name, 0) + 1
    if missing:
        print("  only node_exporter: " + ", ".join(f"{n}({c})" for n, c in sorted(missing.items())))
    panels = yaml.safe_load(PANELS.read_text())["panels"]
    selectors = {s for panel in panels for target in panel["targets"] for s in target}

    def present(series: dict[str, list[dict[str, str]]]) -> set[str]:
        found = set()
        for selector in selectors:
            name, matchers = parse_selector(selector)
            if any(matches(matchers, labels) for labels in series.get(name, [])):
                found.add(selector)
        return found

    theirs_ok = panels_with_data(panels, present(theirs))
    ours_ok = panels_with_data(panels, present(ours))
    print(
        f"Node Exporter Full panels ({len(panels)}): with data node_exporter {len(theirs_ok)}, "
        f"ours {len(ours_ok)}, both {len(theirs_ok & ours_ok)}"
    )


if __name__ == "__main__":
    main()
