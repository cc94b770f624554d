"""Grafana's "Node Exporter Full" (1860): every panel that has data with node_exporter on this
host has data with ours, both scraped by one real Prometheus.

The panels' series selectors come from node_exporter_full.yml (written from the dashboard by
monitoring/dashboards/selectors.py; the dashboard itself is not copied here). Each selector is
evaluated in Prometheus per job; a panel has data when one of its queries has all its series.
Both exporters run with their own defaults, as a user would run them.
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.parse
from pathlib import Path

import yaml

from monitoring.dashboards.selectors import panels_with_data

PANELS = yaml.safe_load((Path(__file__).with_name("node_exporter_full.yml")).read_text())["panels"]
NODE_EXPORTER = shutil.which("prometheus-node-exporter")


def query(get, prometheus: str, promql: str) -> list[dict]:
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    answer = json.loads(get(url))
    assert answer["status"] == "success", answer
    return answer["data"]["result"]


def present_by_job(get, prometheus: str, jobs: list[str]) -> dict[str, set[str]]:
    selectors = {s for panel in PANELS for target in panel["targets"] for s in target}
    present: dict[str, set[str]] = {job: set() for job in jobs}
    for selector in sorted(selectors):
        name, brace, matchers = selector.partition("{")
        scoped = f'{name}{{job=~"{"|".join(jobs)}"{"," + matchers[:-1] if brace else ""}}}'
        for row in query(get, prometheus, f"count by (job) ({scoped})"):
            present[row["metric"]["job"]].add(selector)
    return present


def test_every_panel_with_data_for_node_exporter_has_data_for_ours(
    spawn, port, get, exporter_argv, tmp_path
):
    assert NODE_EXPORTER, "prometheus-node-exporter missing: apt-get install it (tests/packages.d)"
    textfiles = tmp_path / "textfile"
    textfiles.mkdir()
    theirs, ours, prometheus = port(), port(), port()
    spawn("node_exporter", [NODE_EXPORTER, f"--web.listen-address=127.0.0.1:{theirs}",
                            f"--collector.textfile.directory={textfiles}"],
          f"http://127.0.0.1:{theirs}/metrics")  # fmt: skip
    spawn("ours", [*exporter_argv, f"--web.listen-address=127.0.0.1:{ours}",
                   f"--collector.textfile.directory={textfiles}"],
          f"http://127.0.0.1:{ours}/metrics")  # fmt: skip
    config = tmp_path / "prometheus.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
                "scrape_configs": [
                    {"job_name": "node_exporter",
                     "static_configs": [{"targets": [f"127.0.0.1:{theirs}"]}]},
                    {"job_name": "eyeshots", "static_configs": [{"targets": [f"127.0.0.1:{ours}"]}]},
                ],
            }
        )
    )  # fmt: skip
    url = f"http://127.0.0.1:{prometheus}"
    spawn("prometheus", [shutil.which("prometheus"), f"--config.file={config}",
                         f"--storage.tsdb.path={tmp_path / 'data'}",
                         f"--web.listen-address=127.0.0.1:{prometheus}"], f"{url}/-/ready")  # fmt: skip
    # rate() panels need two samples of each series
    end = time.monotonic() + 60
    while True:
        samples = query(get, url, "count_over_time(up[1m])")
        counts = {row["metric"]["job"]: float(row["value"][1]) for row in samples}
        if len(counts) == 2 and min(counts.values()) >= 3:
            break
        assert time.monotonic() < end, f"Prometheus did not scrape both exporters: {counts}"
        time.sleep(0.5)
    assert {row["metric"]["job"] for row in query(get, url, "up == 1")} == {
        "node_exporter", "eyeshots",
    }  # fmt: skip

    present = present_by_job(get, url, ["node_exporter", "eyeshots"])
    theirs_ok = panels_with_data(PANELS, present["node_exporter"])
    ours_ok = panels_with_data(PANELS, present["eyeshots"])
    print(
        f"Node Exporter Full: {len(PANELS)} panels; with data: node_exporter {len(theirs_ok)}, "
        f"eyeshots-exporter {len(ours_ok)}, both {len(theirs_ok & ours_ok)}"
    )
    missing = sorted(theirs_ok - ours_ok)
    assert not missing, f"panels with data only for node_exporter: {missing}"
