from __future__ import annotations

from monitoring.exporter.collectors.meminfo import MeminfoCollector
from monitoring.exporter.collectors.stat import StatCollector
from monitoring.exporter.node import NodeCollector


def test_a_failing_collector_reports_success_0_and_the_rest_is_served(settings, fake_root, samples):
    (fake_root / "proc" / "meminfo").unlink()
    got = samples(NodeCollector([MeminfoCollector(settings), StatCollector(settings)]).collect())
    assert got[("node_scrape_collector_success", (("collector", "meminfo"),))] == 0
    assert got[("node_scrape_collector_success", (("collector", "stat"),))] == 1
    assert got[("node_forks_total", ())] == 4242
    assert got[("node_scrape_collector_duration_seconds", (("collector", "stat"),))] >= 0
