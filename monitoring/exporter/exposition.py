"""Prometheus text format 0.0.4, written faster than prometheus_client.generate_latest.

generate_latest validates and escapes every metric and label name of every sample, which costs
more than reading /proc for all collectors together. Our names are fixed and valid, so only label
values and HELP text need escaping. Same format node_exporter serves by default.
"""

from __future__ import annotations

import math

from prometheus_client.registry import Collector

_TYPES = {
    "counter": "counter",
    "gauge": "gauge",
    "summary": "summary",
    "histogram": "histogram",
    "info": "gauge",
    "stateset": "gauge",
    "gaugehistogram": "histogram",
    "unknown": "untyped",
}
_OPENMETRICS_ONLY = ("_created", "_gsum", "_gcount")


def _value(value: float) -> str:
    if value == math.inf:
        return "+Inf"
    if value == -math.inf:
        return "-Inf"
    if value != value:
        return "NaN"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _escape(value: str) -> str:
    if "\\" in value or '"' in value or "\n" in value:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return value


def generate(registry: Collector) -> bytes:
    out: list[str] = []
    append = out.append
    for metric in registry.collect():
        if not metric.samples:
            continue  # as client_golang: a family with no series is not written at all
        name = metric.name
        if metric.type == "counter":
            name += "_total"
        elif metric.type == "info":
            name += "_info"
        doc = metric.documentation.replace("\\", "\\\\").replace("\n", "\\n")
        append(f"# HELP {name} {doc}\n# TYPE {name} {_TYPES[metric.type]}\n")
        for sample in metric.samples:
            if sample.name.endswith(_OPENMETRICS_ONLY) and sample.name != name:
                continue
            if sample.labels:
                labels = ",".join(f'{k}="{_escape(v)}"' for k, v in sample.labels.items())
                append(f"{sample.name}{{{labels}}} {_value(float(sample.value))}\n")
            else:
                append(f"{sample.name} {_value(float(sample.value))}\n")
    return "".join(out).encode()
