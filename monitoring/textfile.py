"""Textfile metrics: the one writer and reader of the *.prom files that jobs leave in the
exporter's textfile directory (node_exporter's textfile collector format).

Files are rendered by prometheus_client and replaced atomically (written beside, then renamed),
so the exporter never reads half a file; they are read back with the exporter's own textfile
parser, so a job, `eyeshots status` and the exporter agree on what a file says.
"""

from __future__ import annotations

import glob
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from monitoring.exporter.collectors.textfile import TextfileError, parse_textfile

# the exporter's default textfile directory (roles/exporter: exporter_textfile_directory)
DEFAULT_DIRECTORY = "/var/lib/prometheus/node-exporter"


@dataclass(frozen=True)
class Gauge:
    help: str
    value: float


def slug(text: str) -> str:
    """A file-name-safe form of a label value (a repository URL, say)."""
    return re.sub(r"[^a-zA-Z0-9]+", "_", text).strip("_") or "default"


class _Gauges(Collector):
    def __init__(self, labels: Mapping[str, str], gauges: Mapping[str, Gauge]) -> None:
        self.labels, self.gauges = labels, gauges

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for name, gauge in self.gauges.items():
            family = GaugeMetricFamily(name, gauge.help, labels=list(self.labels))
            family.add_metric(list(self.labels.values()), gauge.value)
            yield family


def read(path: Path) -> dict[str, Gauge]:
    """The first sample of each family in a file; {} when it is missing or unreadable."""
    try:
        families = parse_textfile(path.read_text())
    except (OSError, TextfileError):
        return {}
    return {
        name: Gauge(family.help or "", family.samples[0][2])
        for name, family in families.items()
        if family.samples
    }


def read_labelled(pattern: str, name: str) -> Iterator[tuple[dict[str, str], float]]:
    """Every sample of metric `name` (with its labels) in the files matching a glob pattern."""
    for path in sorted(glob.glob(pattern)):
        try:
            families = parse_textfile(Path(path).read_text())
        except (OSError, TextfileError):
            continue
        if name in families:
            for _sample, labels, value in families[name].samples:
                yield labels, value


def write(path: Path, labels: Mapping[str, str], gauges: Mapping[str, Gauge]) -> Path:
    """Atomically replace `path` with these gauges, one sample each with the same labels.

    Values already in the file and not given again are kept (a failed backup keeps the last
    success's time, a drill keeps the check's values).
    """
    merged = {**read(path), **gauges}
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Gauges(labels, dict(sorted(merged.items()))))
    text = generate_latest(registry)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, scratch = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text)
        # the exporter runs as its own user: the file must be world-readable
        os.chmod(scratch, 0o644)
        os.replace(scratch, path)
    except BaseException:
        os.unlink(scratch)
        raise
    return path
