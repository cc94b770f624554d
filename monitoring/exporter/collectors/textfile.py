"""textfile: re-exposes *.prom files as written (names kept), like node_exporter's collector.

prometheus_client's parser renames counter samples lacking `_total`, so files are parsed here. A
file that does not parse, carries client timestamps or repeats a series is skipped whole, logged
naming the file, and sets node_textfile_scrape_error to 1; the rest of the scrape is served.

A file read while a writer rewrites it in place is a prefix of the new content: unless that
prefix ends exactly at a line end, its last line lacks the newline, which node_exporter's parser
refuses ("unexpected end of input stream") and so do we, so `foo 1` cut from `foo 12` is never
served as a value.
"""

from __future__ import annotations

import glob
import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from monitoring.exporter.base import Collector, read_text

log = logging.getLogger("eyeshots_exporter")

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{(.*)\})?\s+(\S+)(?:\s+(\S+))?\s*$")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|$)')
_UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}
TYPES = {"counter", "gauge", "untyped", "summary", "histogram"}
SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count")}


class TextfileError(ValueError):
    """A *.prom file that cannot be re-exposed."""


@dataclass
class Family:
    name: str
    type: str = "untyped"
    help: str | None = None
    samples: list[tuple[str, dict[str, str], float]] = field(default_factory=list)


def _labels(text: str | None) -> dict[str, str]:
    labels: dict[str, str] = {}
    if not text or not text.strip():
        return labels
    pos = 0
    while pos < len(text):
        match = _LABEL.match(text, pos)
        if match is None:
            if text[pos:].strip():
                raise TextfileError(f"bad label set {{{text}}}")
            break
        labels[match.group(1)] = re.sub(
            r"\\[\\\"n]", lambda m: _UNESCAPE[m.group(0)], match.group(2)
        )
        pos = match.end()
    return labels


def _family_for(families: dict[str, Family], sample: str) -> Family:
    if sample in families:
        return families[sample]
    for base_type, suffixes in SUFFIXES.items():
        for suffix in suffixes:
            base = families.get(sample.removesuffix(suffix))
            if sample.endswith(suffix) and base is not None and base.type == base_type:
                return base
    families[sample] = Family(sample)
    return families[sample]


def parse_textfile(text: str) -> dict[str, Family]:
    """Families of one file in text exposition format; raises TextfileError on anything unusable."""
    families: dict[str, Family] = {}
    if text and not text.endswith("\n"):
        raise TextfileError(
            f"line {text.count(chr(10)) + 1}: unexpected end of input stream "
            "(the last line has no newline: a file still being written?)"
        )
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            parts = line[1:].split(None, 2)
            if len(parts) >= 2 and parts[0] in ("HELP", "TYPE"):
                family = families.setdefault(parts[1], Family(parts[1]))
                rest = parts[2] if len(parts) > 2 else ""
                if parts[0] == "HELP":
                    family.help = rest.replace("\\n", "\n").replace("\\\\", "\\")
                elif rest not in TYPES:
                    raise TextfileError(f"line {number}: unknown type {rest!r}")
                elif family.samples:
                    raise TextfileError(f"line {number}: TYPE for {parts[1]} after its samples")
                else:
                    family.type = rest
            continue
        match = _SAMPLE.match(line)
        if match is None:
            raise TextfileError(f"line {number}: not a sample: {line[:80]!r}")
        if match.group(4) is not None:
            raise TextfileError(f"line {number}: client-side timestamps are not supported")
        try:
            value = float(match.group(3))
        except ValueError as exc:
            raise TextfileError(f"line {number}: bad value {match.group(3)!r}") from exc
        name = match.group(1)
        _family_for(families, name).samples.append((name, _labels(match.group(2)), value))
    for family in families.values():
        keys = {(s, tuple(sorted(labels.items()))) for s, labels, _ in family.samples}
        if len(keys) != len(family.samples):
            raise TextfileError(f"{family.name}: the same series appears twice in the file")
    return families


def _to_metric(family: Family, files: list[str]) -> Metric:
    doc = family.help if family.help is not None else "Metric read from " + ", ".join(files)
    typ = {"untyped": "unknown"}.get(family.type, family.type)
    name = family.name
    if typ == "counter":
        if not all(s[0].endswith("_total") for s in family.samples):
            # prometheus_client always writes counters as <name>_total; keeping the file's own
            # name matters more for rules than the type, so such counters go out untyped
            typ = "unknown"
        else:
            name = name.removesuffix("_total")
    metric = Metric(name, doc, typ)
    # le/quantile belong to bucket/quantile samples only, never to _sum/_count
    special = {"le", "quantile"}
    keys = sorted({k for _, labels, _ in family.samples for k in labels} - special)
    for sample, labels, value in family.samples:
        filled = {k: labels.get(k, "") for k in keys}
        filled.update({k: v for k, v in labels.items() if k in special})
        metric.add_sample(sample, filled, value)
    return metric


class TextfileCollector(Collector):
    name = "textfile"
    description = "Metrics from *.prom files in --collector.textfile.directory."

    def _files(self) -> tuple[list[str], bool]:
        """The *.prom files to read, and whether a directory could not be listed."""
        files: set[str] = set()
        unreadable = False
        for pattern in self.settings.textfile_directories:
            for directory in glob.glob(pattern) or [pattern]:
                try:
                    names = os.listdir(directory)
                except OSError as exc:
                    unreadable = True
                    log.error("failed to read textfile collector directory %s: %s", directory, exc)
                    continue
                files.update(os.path.join(directory, n) for n in names if n.endswith(".prom"))
        return sorted(files), unreadable

    @staticmethod
    def _clash(existing: Family | None, family: Family) -> str | None:
        """Why a family cannot join the one read from earlier files, or None."""
        if existing is None:
            return None
        if existing.type != family.type:
            return f"{family.name} is {family.type} here but {existing.type} in an earlier file"
        seen = {(s, tuple(sorted(labels.items()))) for s, labels, _ in existing.samples}
        for sample, labels, _ in family.samples:
            if (sample, tuple(sorted(labels.items()))) in seen:
                return f"{sample}{labels or ''} was already read from an earlier file"
        return None

    def collect(self) -> Iterable[Metric]:
        merged: dict[str, Family] = {}
        sources: dict[str, list[str]] = {}
        mtimes = GaugeMetricFamily(
            "node_textfile_mtime_seconds",
            "Unixtime mtime of textfiles successfully read.",
            labels=["file"],
        )
        paths, unreadable = self._files()
        error = 1.0 if unreadable else 0.0
        for path in paths:
            try:
                families = parse_textfile(read_text(path))
                # whole seconds, as node_exporter reports (time.Time.Unix()); taken after the
                # parse so a file that failed never looks fresh
                mtime = float(int(os.stat(path).st_mtime))
            except (OSError, TextfileError) as exc:
                error = 1.0
                log.error("failed to collect textfile data from %s: %s", path, exc)
                continue
            clash = next(
                (why for n, f in families.items() if (why := self._clash(merged.get(n), f))), None
            )
            if clash:
                # the same series in two files: Prometheus would reject the whole scrape
                error = 1.0
                log.error("failed to collect textfile data from %s: %s", path, clash)
                continue
            mtimes.add_metric([path], mtime)
            for name, family in families.items():
                if not family.samples:
                    continue
                target = merged.setdefault(name, Family(name, family.type, family.help))
                if target.help is None:
                    target.help = family.help
                target.samples.extend(family.samples)
                sources.setdefault(name, []).append(path)
        for name in sorted(merged):
            yield _to_metric(merged[name], sources[name])
        if mtimes.samples:
            yield mtimes
        yield GaugeMetricFamily(
            "node_textfile_scrape_error",
            "1 if there was an error opening or reading a file, 0 otherwise",
            value=error,
        )
