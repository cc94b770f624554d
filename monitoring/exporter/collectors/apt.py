"""apt: pending package upgrades and a pending reboot, named as node_exporter's apt textfile
scripts name them (apt_upgrades_pending{origin,arch}, node_reboot_required).

apt's own resolver decides what an upgrade would install (`apt-get --just-print dist-upgrade`,
which needs no root); it runs again only when dpkg's status or apt's package lists changed, so
a scrape normally costs a few stat calls. Security updates are the series whose origin names a
security archive (Debian-Security:..., Ubuntu:.../noble-security).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections import Counter
from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from monitoring.exporter.base import Collector, Settings

# `Inst pkg [old] (new origin[, origin...] [arch])`: a package installed fresh has no [old].
_INST = re.compile(r"^Inst \S+(?: \[[^\]]*\])? \(\S+ (.+) \[([^\]]+)\]\)")
# What invalidates the last answer: dpkg's database and apt's lists (`apt update` renames into
# the folder, changing its mtime).
APT_STATE = ("/var/lib/dpkg/status", "/var/lib/apt/lists", "/var/cache/apt/pkgcache.bin")
REBOOT_REQUIRED = "/run/reboot-required"
# Written by apt's periodic job after each successful `apt update` (APT::Periodic).
UPDATE_STAMP = "/var/lib/apt/periodic/update-success-stamp"


def pending_upgrades(simulation: str) -> Counter[tuple[str, str]]:
    """(origin, arch) -> packages an upgrade would install, from `apt-get --just-print` output."""
    found: Counter[tuple[str, str]] = Counter()
    for line in simulation.splitlines():
        match = _INST.match(line)
        if match:
            origin = ",".join(part.strip() for part in match.group(1).split(","))
            found[(origin, match.group(2))] += 1
    return found


class AptCollector(Collector):
    name = "apt"
    description = "Pending apt upgrades by origin, and whether a reboot is pending."
    default_enabled = False
    # apt's own command and state files (an instance may point them elsewhere, e.g. in tests).
    apt_get = "apt-get"
    state_files = APT_STATE

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._cached: tuple[tuple[float, ...], Counter[tuple[str, str]]] | None = None

    def _state(self) -> tuple[float, ...]:
        stamps = []
        for path in self.state_files:
            try:
                stamps.append(os.stat(path).st_mtime)
            except OSError:
                stamps.append(0.0)
        return tuple(stamps)

    def _upgrades(self) -> Counter[tuple[str, str]]:
        state = self._state()
        if self._cached is None or self._cached[0] != state:
            result = subprocess.run(
                [self.apt_get, "--just-print", "--quiet", "dist-upgrade"],
                capture_output=True,
                text=True,
                timeout=60,
                env={**os.environ, "LC_ALL": "C"},
            )
            if result.returncode != 0:
                # node_scrape_collector_success goes to 0: no answer is better than a wrong 0.
                raise RuntimeError(f"apt-get failed: {result.stderr.strip()[-200:]}")
            self._cached = (state, pending_upgrades(result.stdout))
        return self._cached[1]

    def collect(self) -> Iterable[Metric]:
        pending = GaugeMetricFamily(
            "apt_upgrades_pending",
            "Apt packages pending updates by origin.",
            labels=["origin", "arch"],
        )
        for (origin, arch), count in sorted(self._upgrades().items()):
            pending.add_metric([origin, arch], count)
        yield pending
        try:
            since = os.stat(self.settings.rooted(REBOOT_REQUIRED)).st_mtime
        except OSError:
            since = None
        yield GaugeMetricFamily(
            "node_reboot_required",
            "Node reboot is required for software updates.",
            value=0.0 if since is None else 1.0,
        )
        if since is not None:
            yield GaugeMetricFamily(
                "node_reboot_required_since_timestamp_seconds",
                "When a reboot became required (mtime of /run/reboot-required).",
                value=float(int(since)),
            )
        try:
            stamp = os.stat(self.settings.rooted(UPDATE_STAMP)).st_mtime
        except OSError:
            return
        yield GaugeMetricFamily(
            "apt_package_cache_timestamp_seconds",
            "Apt update last run time.",
            value=float(int(stamp)),
        )
