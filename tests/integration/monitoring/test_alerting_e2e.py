"""End to end: exporter -> Prometheus -> Alertmanager -> a webhook, on real conditions.

A small tmpfs the test mounts is filled up and every CPU is kept busy; the webhook receiver started
here must get the firing alerts and, once the disk is emptied and the CPUs idle, the resolved ones.
Prometheus and Alertmanager are Debian's binaries, configured from roles/prometheus's templates.

The rules are the production ones from monitoring/rules/node.yml, copied with only their `for:`
and range windows shortened so the test takes seconds instead of 30 minutes; the production
files themselves are what promtool tests (tests/unit/monitoring/test_rules.py).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from monitoring.config import RULES_DIR
from provision.monitoring_commands import render

ALERTS = ("NodeFilesystemAlmostOutOfSpace", "NodeCPUHighUsage")
BURN = "import os\nos.nice(19)\nwhile True:\n    pass\n"


def fast_copy_of_production_rules(target: Path) -> None:
    doc = yaml.safe_load((RULES_DIR / "node.yml").read_text())
    rules = [r for g in doc["groups"] for r in g["rules"] if r.get("alert") in ALERTS]
    assert {r["alert"] for r in rules} == set(ALERTS)
    for rule in rules:
        rule["for"] = "2s"
        rule["expr"] = re.sub(r"\[\d+[smh]\]", "[10s]", rule["expr"])
    target.write_text(yaml.safe_dump({"groups": [{"name": "e2e", "rules": rules}]}))


class Receiver:
    """The on-call webhook: remembers every alert Alertmanager posts."""

    def __init__(self) -> None:
        self.alerts: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with receiver.lock:
                    receiver.alerts.extend(body["alerts"])
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alert"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, status: str, alertname: str, deadline: float, **labels: str) -> dict:
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            with self.lock:
                for alert in self.alerts:
                    got = alert["labels"]
                    if (
                        alert["status"] == status
                        and got.get("alertname") == alertname
                        and all(got.get(k) == v for k, v in labels.items())
                    ):
                        return alert
            time.sleep(0.2)
        with self.lock:
            seen = [(a["status"], a["labels"]) for a in self.alerts]
        raise AssertionError(f"no {status} {alertname} {labels} within {deadline}s; got {seen}")


@pytest.fixture
def small_filesystem(tmp_path):
    mountpoint = tmp_path / "small"
    mountpoint.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "eyeshots-e2e", str(mountpoint)], check=True
    )
    yield mountpoint
    subprocess.run(["umount", "-l", str(mountpoint)], check=True)


@pytest.fixture
def receiver():
    hook = Receiver()
    yield hook
    hook.server.shutdown()


def test_disk_full_and_busy_cpu_page_and_then_resolve(
    spawn, port, get, exporter_argv, tmp_path, small_filesystem, receiver
):
    exporter, prometheus, alertmanager = port(), port(), port()
    spawn(
        "exporter",
        [*exporter_argv, f"--web.listen-address=127.0.0.1:{exporter}",
         f"--collector.textfile.directory={tmp_path}"],
        f"http://127.0.0.1:{exporter}/metrics",
    )  # fmt: skip

    am_config = tmp_path / "alertmanager.yml"
    am_config.write_text(
        render(
            "prometheus",
            "alertmanager.yml",
            alertmanager_webhook_urls=[receiver.url],
            alertmanager_group_wait="1s",
            alertmanager_group_interval="1s",
        )
    )
    subprocess.run(["amtool", "check-config", str(am_config)], check=True, capture_output=True)
    spawn(
        "alertmanager",
        [shutil.which("prometheus-alertmanager"), f"--config.file={am_config}",
         f"--storage.path={tmp_path / 'am-data'}", f"--web.listen-address=127.0.0.1:{alertmanager}",
         "--cluster.listen-address="],
        f"http://127.0.0.1:{alertmanager}/-/ready",
    )  # fmt: skip

    rules = tmp_path / "rules"
    rules.mkdir()
    fast_copy_of_production_rules(rules / "e2e.yml")
    # the production rules too, as deployed: they must evaluate cleanly on the exporter's real
    # series (vector-matching errors only show at evaluation time); their `for:` keeps them quiet
    for path in RULES_DIR.glob("*.yml"):
        shutil.copy(path, rules / f"production-{path.name}")
    prom_config = tmp_path / "prometheus.yml"
    prom_config.write_text(
        render(
            "prometheus",
            "prometheus.yml",
            prometheus_listen_address=f"127.0.0.1:{prometheus}",
            prometheus_rules_dir=str(rules),
            prometheus_scrape_interval="1s",
            prometheus_scrape_timeout="1s",
            prometheus_evaluation_interval="1s",
            prometheus_node_targets=[f"127.0.0.1:{exporter}"],
            prometheus_app_targets=[],
            alertmanager_listen_address=f"127.0.0.1:{alertmanager}",
        )
    )
    subprocess.run(
        ["promtool", "check", "config", str(prom_config)], check=True, capture_output=True
    )
    spawn(
        "prometheus",
        [shutil.which("prometheus"), f"--config.file={prom_config}",
         f"--storage.tsdb.path={tmp_path / 'prom-data'}",
         f"--web.listen-address=127.0.0.1:{prometheus}"],
        f"http://127.0.0.1:{prometheus}/-/ready",
    )  # fmt: skip

    # fill the small filesystem to ~99 % and keep every CPU busy (niced: others still get CPU)
    fs = os.statvfs(small_filesystem)
    filler = small_filesystem / "filler"
    filler.write_bytes(b"\0" * (fs.f_blocks * fs.f_bsize - 64 * 1024))
    burners = [spawn(f"burn{i}", [sys.executable, "-c", BURN]) for i in range(os.cpu_count() or 1)]
    instance = f"127.0.0.1:{exporter}"
    try:
        disk = receiver.wait_for(
            "firing", "NodeFilesystemAlmostOutOfSpace", 90,
            mountpoint=str(small_filesystem), severity="critical", instance=instance, job="node",
        )  # fmt: skip
        cpu = receiver.wait_for("firing", "NodeCPUHighUsage", 90, instance=instance)
    finally:
        for burner in burners:
            burner.terminate()
        filler.unlink()
    assert disk["labels"]["fstype"] == "tmpfs"
    assert disk["annotations"]["summary"] == "Filesystem has less than 3% space left."
    assert f"mounted on {small_filesystem}" in disk["annotations"]["description"]
    assert "CPU usage at" in cpu["annotations"]["description"]

    receiver.wait_for(
        "resolved", "NodeFilesystemAlmostOutOfSpace", 60,
        mountpoint=str(small_filesystem), severity="critical",
    )  # fmt: skip
    receiver.wait_for("resolved", "NodeCPUHighUsage", 90, instance=instance)

    groups = json.loads(get(f"http://127.0.0.1:{prometheus}/api/v1/rules"))["data"]["groups"]
    production = [g for g in groups if "production-" in g["file"]]
    expected = sum(len(yaml.safe_load(p.read_text())["groups"]) for p in RULES_DIR.glob("*.yml"))
    assert len(production) == expected
    for group in production:
        assert group["lastEvaluation"] != "0001-01-01T00:00:00Z", group["name"]
        for rule in group["rules"]:
            assert rule["health"] == "ok", (rule["name"], rule.get("lastError"))
