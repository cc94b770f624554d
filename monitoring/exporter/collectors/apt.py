"""apt: pending package upgrades and a pending reboot, named as node_exporter's apt textfile
scripts name them (apt_upgrades_pending{origin,arch}, node_reboot_required).

apt's own resolver decides what an upgrade would install (`apt-get --just-print dist-upgrade`,
which needs no root). It runs in the background, again only when dpkg's status or apt's package
lists changed, so a scrape costs a few stat calls and never waits for apt beyond the first
answer. Security updates are the series whose origin names a security archive
(Debian-Security:..., Ubuntu:.../noble-security).
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
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


def is_security(origin: str) -> bool:
    """Whether an origin (all of a package's, comma-separated) includes a security archive."""
    return "security" in origin.lower()


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

    # How long the first scrape waits for apt's first answer.
    first_wait = 10.0

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._lock = threading.Lock()
        self._refresh: threading.Thread | None = None
        # (apt state it was computed for, upgrades or the error apt gave)
        self._answer: tuple[tuple[float, ...], Counter[tuple[str, str]] | Exception] | None = None

    def _state(self) -> tuple[float, ...]:
        stamps = []
        for path in self.state_files:
            try:
                stamps.append(os.stat(path).st_mtime)
            except OSError:
                stamps.append(0.0)
        return tuple(stamps)

    def _simulate(self, state: tuple[float, ...]) -> None:
        try:
            result = subprocess.run(
                [self.apt_get, "--just-print", "--quiet", "dist-upgrade"],
                capture_output=True,
                text=True,
                timeout=300,
                env={**os.environ, "LC_ALL": "C"},
            )
            if result.returncode != 0:
                raise RuntimeError(f"apt-get failed: {result.stderr.strip()[-200:]}")
            answer: Counter[tuple[str, str]] | Exception = pending_upgrades(result.stdout)
        except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
            answer = exc
        self._answer = (state, answer)

    def refreshing(self) -> threading.Thread | None:
        """Start asking apt again if its state changed since the last answer; the running ask."""
        state = self._state()
        with self._lock:
            running = self._refresh is not None and self._refresh.is_alive()
            if not running and (self._answer is None or self._answer[0] != state):
                self._refresh = threading.Thread(target=self._simulate, args=(state,), daemon=True)
                self._refresh.start()
                running = True
            return self._refresh if running else None

    def _upgrades(self) -> Counter[tuple[str, str]] | None:
        refresh = self.refreshing()
        if self._answer is None and refresh is not None:
            refresh.join(self.first_wait)
        if self._answer is None:
            return None
        answer = self._answer[1]
        if isinstance(answer, Exception):
            # node_scrape_collector_success goes to 0: no answer is better than a wrong 0.
            raise answer
        return answer

    def collect(self) -> Iterable[Metric]:
        # The reboot and cache series first: they stay in the scrape when apt fails below.
        try:
            since = os.stat(self.settings.rooted(REBOOT_REQUIRED)).st_mtime
        except OSError:
            since = None
        yield GaugeMetricFamily(
            "node_reboot_required",
            "Node reboot is required for software updates.",
            value=0.0 if since is None else 1.0,
        )
        # Without samples while no reboot is pending, like apt_upgrades_pending with none.
        required_since = GaugeMetricFamily(
            "node_reboot_required_since_timestamp_seconds",
            "When a reboot became required (mtime of /run/reboot-required).",
        )
        if since is not None:
            required_since.add_metric([], float(int(since)))
        yield required_since
        try:
            stamp = os.stat(self.settings.rooted(UPDATE_STAMP)).st_mtime
        except OSError:
            stamp = None
        if stamp is not None:
            yield GaugeMetricFamily(
                "apt_package_cache_timestamp_seconds",
                "Apt update last run time.",
                value=float(int(stamp)),
            )
        pending = GaugeMetricFamily(
            "apt_upgrades_pending",
            "Apt packages pending updates by origin.",
            labels=["origin", "arch"],
        )
        # None until apt's first answer is in (a slow first run): no series rather than zeros.
        for (origin, arch), count in sorted((self._upgrades() or {}).items()):
            pending.add_metric([origin, arch], float(count))
        yield pending
