"""Runs the enabled collectors at each scrape and reports node_scrape_collector_* for each."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector as RegistryCollector

from monitoring.exporter.base import Collector, NoDataError

log = logging.getLogger("eyeshots_exporter")
_SUFFIX = {"counter": "_total", "info": "_info"}


class NodeCollector(RegistryCollector):
    """The one collector registered with prometheus_client; fans out to the node collectors."""

    def __init__(self, collectors: Iterable[Collector]) -> None:
        self.collectors = list(collectors)

    def only(
        self, include: set[str] | None = None, exclude: set[str] | None = None
    ) -> NodeCollector:
        """This collector restricted like node_exporter's ?collect[]= / ?exclude[]= parameters."""
        known = {c.name for c in self.collectors}
        unknown = (include or set()) - known | (exclude or set()) - known
        if unknown:
            raise ValueError(f"unknown or disabled collector(s): {', '.join(sorted(unknown))}")
        chosen = [
            c
            for c in self.collectors
            if (include is None or c.name in include) and (exclude is None or c.name not in exclude)
        ]
        return NodeCollector(chosen)

    def describe(self) -> Iterable[Metric]:
        # keep register() from running a scrape (statvfs, systemctl) at start-up
        return []

    def collect(self) -> Iterable[Metric]:
        duration = GaugeMetricFamily(
            "node_scrape_collector_duration_seconds",
            "node_exporter: Duration of a collector scrape.",
            labels=["collector"],
        )
        success = GaugeMetricFamily(
            "node_scrape_collector_success",
            "node_exporter: Whether a collector succeeded.",
            labels=["collector"],
        )
        # a family served twice (a textfile redefining node_load1, say) would make Prometheus
        # reject the whole scrape; the later copy is dropped and its collector marked failed
        names = {"node_scrape_collector_duration_seconds", "node_scrape_collector_success"}
        for collector in self.collectors:
            start = time.perf_counter()
            families: list[Metric] = []
            ok = 1.0
            try:
                families.extend(collector.collect())
            except NoDataError as exc:
                ok = 0.0
                log.debug("collector %s returned no data: %s", collector.name, exc)
            except Exception as exc:  # one broken collector must not fail the scrape
                ok = 0.0
                log.error("collector %s failed: %s", collector.name, exc)
            elapsed = time.perf_counter() - start
            for family in families:
                # the name as exposed: prometheus_client stores counters without _total
                exposed = family.name + _SUFFIX.get(family.type, "")
                if exposed in names:
                    ok = 0.0
                    log.error("collector %s: %s was already collected", collector.name, exposed)
                    continue
                names.add(exposed)
                yield family
            duration.add_metric([collector.name], elapsed)
            success.add_metric([collector.name], ok)
        yield duration
        yield success
