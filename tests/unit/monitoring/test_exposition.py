"""Our text exposition says exactly what prometheus_client's generate_latest says."""

from __future__ import annotations

import math

from prometheus_client import generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.parser import text_string_to_metric_families

from monitoring.exporter.collectors import ALL
from monitoring.exporter.exposition import generate
from monitoring.exporter.main import build_registry


class Awkward:
    def collect(self):
        gauge = GaugeMetricFamily(
            "awkward", 'help with \\ and "quotes"\nand a newline', labels=["v"]
        )
        gauge.add_metric(['back\\slash "quoted"\nnewline'], 0.1)
        gauge.add_metric(["inf"], math.inf)
        gauge.add_metric(["-inf"], -math.inf)
        gauge.add_metric(["nan"], math.nan)
        gauge.add_metric(["big"], 1.7e300)
        gauge.add_metric(["int"], 42.0)
        yield gauge
        yield CounterMetricFamily("things_total", "things", value=3)


def families(text: str) -> list:
    out = []
    for f in text_string_to_metric_families(text):
        samples = [(s.name, s.labels, "nan" if s.value != s.value else s.value) for s in f.samples]
        out.append((f.name, f.type, f.documentation, samples))
    return out


def test_same_families_as_generate_latest(settings, fake_root):
    (fake_root / "textfile").mkdir()
    (fake_root / "textfile" / "x.prom").write_text(
        '# TYPE s summary\ns{quantile="0.5"} 1\ns_sum 2\ns_count 3\n'
    )
    registry = build_registry(settings, [n for n in ALL if n not in ("systemd", "tlscert")], True)
    registry.register(Awkward())
    ours = families(generate(registry).decode())
    # generate_latest writes HELP/TYPE of a family without series; node_exporter (and we) do not
    theirs = [f for f in families(generate_latest(registry).decode()) if f[3]]
    assert all(f[3] for f in ours)
    volatile = ("node_time_seconds", "process_", "python_gc", "node_scrape_collector_duration")
    assert [f for f in ours if not f[0].startswith(volatile)] == [
        f for f in theirs if not f[0].startswith(volatile)
    ]
    assert [f[:3] for f in ours] == [f[:3] for f in theirs]
