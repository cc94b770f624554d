"""The series a Grafana dashboard reads: per panel, per query, the selectors in its PromQL.

Run once on Grafana's "Node Exporter Full" (id 1860, github rfmoz/grafana-dashboards,
prometheus/node-exporter-full.json) to write the compatibility test's panel list, so the test
needs no copy of that dashboard:

    uv run python -m monitoring.dashboards.selectors node-exporter-full.json \\
        > tests/integration/monitoring/node_exporter_full.yml
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterator
from pathlib import Path

import yaml

_SELECTOR = re.compile(r"\b((?:node|eyeshots|http|process|up)\w*)\s*(\{[^}]*\})?")
_MATCHER = re.compile(r'\s*(\w+)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*,?')


def panels(dashboard: dict) -> Iterator[dict]:
    """Every non-row panel, rows unfolded."""
    for panel in dashboard.get("panels", []):
        if panel.get("type") == "row":
            yield from panels(panel)
        else:
            yield panel


def selectors(expr: str) -> list[str]:
    """`name{fixed matchers}` for each series selector; matchers on dashboard variables
    ($job, $node, ...) are left out: the test supplies job and instance itself."""
    out = []
    for name, braces in _SELECTOR.findall(expr):
        if (
            not name.startswith("node_")
            and name not in ("up",)
            and not name.startswith(("eyeshots_", "http_", "process_"))
        ):
            continue
        kept = [
            f'{key}{op}"{value}"'
            for key, op, value in _MATCHER.findall(braces[1:-1] if braces else "")
            if "$" not in value
        ]
        selector = name + ("{" + ",".join(kept) + "}" if kept else "")
        if selector not in out:
            out.append(selector)
    return out


def dashboard_selectors(dashboard: dict) -> list[dict]:
    return [
        {
            "title": panel.get("title", ""),
            "targets": [selectors(t["expr"]) for t in panel.get("targets", []) if t.get("expr")],
        }
        for panel in panels(dashboard)
    ]


def parse_selector(selector: str) -> tuple[str, list[tuple[str, str, str]]]:
    """`name{a="x",b=~"y"}` -> ("name", [("a", "=", "x"), ("b", "=~", "y")])."""
    name, brace, rest = selector.partition("{")
    return name, _MATCHER.findall(rest[:-1]) if brace else []


def matches(matchers: list[tuple[str, str, str]], labels: dict[str, str]) -> bool:
    """PromQL label matching (regexes anchored, a missing label is "")."""
    for key, op, value in matchers:
        got = labels.get(key, "")
        ok = {
            "=": got == value,
            "!=": got != value,
            "=~": re.fullmatch(value, got) is not None if op == "=~" else False,
            "!~": re.fullmatch(value, got) is None if op == "!~" else False,
        }[op]
        if not ok:
            return False
    return True


def panels_with_data(panel_list: list[dict], present: set[str]) -> set[str]:
    """Titles of the panels Grafana would draw something for: at least one query all of whose
    selectors return series (`present` is the set of selectors that do)."""
    return {
        panel["title"]
        for panel in panel_list
        if any(targets and set(targets) <= present for targets in panel["targets"])
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dashboard", type=Path, help="a Grafana dashboard JSON file")
    args = parser.parse_args()
    dashboard = json.loads(args.dashboard.read_text())
    print(
        '# Series selectors of Grafana dashboard 1860 "Node Exporter Full" (rfmoz/grafana-dashboards,\n'
        f"# prometheus/node-exporter-full.json, dashboard version {dashboard.get('version')}), one list\n"
        "# per panel query; written by monitoring/dashboards/selectors.py, not a copy of the dashboard."
    )
    print(yaml.safe_dump({"panels": dashboard_selectors(dashboard)}, sort_keys=False, width=200))


if __name__ == "__main__":
    main()
