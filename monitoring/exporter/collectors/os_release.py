"""os: the distribution from os-release (read again only when the file changes)."""

from __future__ import annotations

import os
import re
import shlex
import threading
from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from monitoring.exporter.base import Collector, NoDataError, Settings, read_text

FILES = ("/etc/os-release", "/usr/lib/os-release")
INFO_LABELS = (
    "build_id", "id", "id_like", "image_id", "image_version", "name", "pretty_name",
    "variant", "variant_id", "version", "version_codename", "version_id",
)  # fmt: skip
_MAJOR_MINOR = re.compile(r"^[0-9]+\.?[0-9]*")


def parse_os_release(text: str) -> dict[str, str]:
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and not key.startswith("#"):
            values[key.strip().lower()] = "".join(shlex.split(value)) if value else ""
    return values


class OSCollector(Collector):
    name = "os"
    description = "Operating system release (/etc/os-release)."

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._cache: tuple[str, int, dict[str, str]] | None = None
        self._lock = threading.Lock()

    def _release(self) -> dict[str, str]:
        for path in (self.settings.rooted(f) for f in FILES):
            try:
                mtime = os.stat(path).st_mtime_ns
            except FileNotFoundError:
                continue
            with self._lock:
                if self._cache is None or self._cache[:2] != (path, mtime):
                    self._cache = (path, mtime, parse_os_release(read_text(path)))
                return self._cache[2]
        raise NoDataError(f"no os-release file found ({', '.join(FILES)})")

    def collect(self) -> Iterable[Metric]:
        release = self._release()
        info = GaugeMetricFamily(
            "node_os_info",
            "A metric with a constant '1' value labeled by " + ", ".join(INFO_LABELS) + ".",
            labels=list(INFO_LABELS),
        )
        info.add_metric([release.get(label, "") for label in INFO_LABELS], 1.0)
        yield info
        major_minor = _MAJOR_MINOR.match(release.get("version_id", ""))
        if major_minor and float(major_minor.group()) > 0:
            version = GaugeMetricFamily(
                "node_os_version",
                "Metric containing the major.minor part of the OS version.",
                labels=["id", "id_like", "name"],
            )
            version.add_metric(
                [release.get("id", ""), release.get("id_like", ""), release.get("name", "")],
                float(major_minor.group()),
            )
            yield version
