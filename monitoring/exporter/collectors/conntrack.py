"""conntrack: netfilter connection-tracking table use and its per-CPU statistics, summed."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from monitoring.exporter.base import Collector, NoDataError, read_lines, read_text

# /proc/net/stat/nf_conntrack column -> (metric suffix, HELP), as node_exporter names them
STATS = {
    "found": ("found", "Number of searched entries which were successful."),
    "invalid": ("invalid", "Number of packets seen which can not be tracked."),
    "ignore": (
        "ignore",
        "Number of packets seen which are already connected to a conntrack entry.",
    ),
    "insert": ("insert", "Number of entries inserted into the list."),
    "insert_failed": (
        "insert_failed",
        "Number of entries for which list insertion was attempted but failed.",
    ),
    "drop": ("drop", "Number of packets dropped due to conntrack failure."),
    "early_drop": (
        "early_drop",
        "Number of dropped conntrack entries to make room for new ones, "
        "if maximum table size was reached.",
    ),
    "search_restart": (
        "search_restart",
        "Number of conntrack table lookups which had to be restarted due to hashtable resizes.",
    ),
}


class ConntrackCollector(Collector):
    name = "conntrack"
    description = "Connection-tracking table use and statistics (nf_conntrack)."

    def collect(self) -> Iterable[Metric]:
        netfilter = ("sys", "net", "netfilter")
        try:
            count = read_text(self.settings.proc(*netfilter, "nf_conntrack_count"))
            limit = read_text(self.settings.proc(*netfilter, "nf_conntrack_max"))
        except FileNotFoundError as exc:
            raise NoDataError("conntrack probably not loaded") from exc
        yield GaugeMetricFamily(
            "node_nf_conntrack_entries",
            "Number of currently allocated flow entries for connection tracking.",
            value=float(count),
        )
        yield GaugeMetricFamily(
            "node_nf_conntrack_entries_limit",
            "Maximum size of connection tracking table.",
            value=float(limit),
        )
        lines = read_lines(self.settings.proc("net", "stat", "nf_conntrack"), missing_ok=True)
        if not lines:
            return
        columns = lines[0].split()
        totals = dict.fromkeys(columns, 0)
        for line in lines[1:]:  # one line per CPU
            for column, value in zip(columns, line.split(), strict=False):
                totals[column] += int(value, 16)
        for column, (suffix, help_text) in STATS.items():
            if column in totals:
                yield GaugeMetricFamily(
                    f"node_nf_conntrack_stat_{suffix}", help_text, value=float(totals[column])
                )
