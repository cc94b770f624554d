"""bonding: configured and active slaves per bonding interface (/sys/class/net)."""

from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from monitoring.exporter.base import Collector, NoDataError, read_text


class BondingCollector(Collector):
    name = "bonding"
    description = "Bonding interfaces: configured and active slaves (/sys/class/net)."

    def _mii_up(self, master: str, slave: str) -> bool:
        net = self.settings.sys("class", "net")
        for path in (
            os.path.join(net, master, f"lower_{slave}", "bonding_slave", "mii_status"),
            os.path.join(net, slave, "bonding_slave", "mii_status"),
        ):
            try:
                return read_text(path).strip() == "up"
            except FileNotFoundError:
                continue
        return False

    def collect(self) -> Iterable[Metric]:
        try:
            masters = read_text(self.settings.sys("class", "net", "bonding_masters")).split()
        except FileNotFoundError as exc:
            raise NoDataError("no bonding_masters (bonding driver not loaded)") from exc
        slaves = GaugeMetricFamily(
            "node_bonding_slaves", "Number of configured slaves per bonding interface.",
            labels=["master"],
        )  # fmt: skip
        active = GaugeMetricFamily(
            "node_bonding_active", "Number of active slaves per bonding interface.",
            labels=["master"],
        )  # fmt: skip
        for master in masters:
            members = read_text(
                self.settings.sys("class", "net", master, "bonding", "slaves")
            ).split()
            slaves.add_metric([master], float(len(members)))
            active.add_metric([master], float(sum(self._mii_up(master, s) for s in members)))
        yield slaves
        yield active
