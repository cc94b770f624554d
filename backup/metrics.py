"""Prometheus textfile output for node_exporter's textfile collector (written atomically)."""

from __future__ import annotations

import os
from pathlib import Path

PREFIX = "eyeshots_backup_"


def read_textfile(path: Path) -> dict[str, float]:
    values: dict[str, float] = {}
    try:
        text = path.read_text()
    except FileNotFoundError:
        return values
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition(" ")
            try:
                values[name] = float(value)
            except ValueError:
                continue
    return values


def write_textfile(path: Path, metrics: dict[str, tuple[str, float]]) -> None:
    """metrics: name (without prefix) -> (help text, value); all gauges, no timestamps."""
    lines = []
    for name, (help_text, value) in sorted(metrics.items()):
        full = PREFIX + name
        lines += [f"# HELP {full} {help_text}", f"# TYPE {full} gauge", f"{full} {_fmt(value)}"]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text("\n".join(lines) + "\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
