"""The production alert rules: promtool validates and unit-tests them; none is left untested."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml
from prometheus_client import CollectorRegistry, generate_latest

from monitoring.backup_metrics import METRICS as BACKUP_METRICS
from monitoring.exporter.base import Settings
from monitoring.exporter.collectors import ALL
from monitoring.exporter.node import NodeCollector

RULES = Path(__file__).resolve().parents[3] / "monitoring" / "rules"
RULE_FILES = sorted(RULES.glob("*.yml"))
TEST_FILES = sorted((RULES / "tests").glob("*.test.yml"))


def all_rules():
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            yield from group["rules"]


def alerting_rules():
    return [rule for rule in all_rules() if "alert" in rule]


def test_every_recording_rule_is_evaluated_in_a_test():
    tested = set()
    for path in TEST_FILES:
        for test in yaml.safe_load(path.read_text())["tests"]:
            tested |= {
                case["expr"] for case in test.get("promql_expr_test", []) if case.get("exp_samples")
            }
    recorded = {rule["record"] for rule in all_rules() if "record" in rule}
    assert recorded - tested == set(), "recording rules without a promtool expression test"


def test_promtool_check_rules():
    result = subprocess.run(
        ["promtool", "check", "rules", *map(str, RULE_FILES)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_test_rules():
    result = subprocess.run(
        ["promtool", "test", "rules", *map(str, TEST_FILES)],
        capture_output=True,
        text=True,
        cwd=RULES / "tests",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(TEST_FILES)


def test_every_alert_and_severity_fires_in_a_test():
    fired = set()
    for path in TEST_FILES:
        for test in yaml.safe_load(path.read_text())["tests"]:
            for case in test.get("alert_rule_test", []):
                for alert in case.get("exp_alerts") or []:
                    fired.add((case["alertname"], alert["exp_labels"]["severity"]))
    rules = {(r["alert"], r["labels"]["severity"]) for r in alerting_rules()}
    assert rules - fired == set(), "alerts without a firing promtool test"


def test_every_alert_has_summary_description_runbook_and_severity():
    for rule in alerting_rules():
        assert rule["labels"]["severity"] in ("info", "warning", "critical"), rule["alert"]
        assert {"summary", "description", "runbook"} <= set(rule["annotations"]), rule["alert"]


def test_node_metrics_in_rules_are_ones_the_exporter_serves(tmp_path):
    settings = Settings(textfile_directories=[str(tmp_path)])
    registry = CollectorRegistry(auto_describe=False)
    registry.register(
        NodeCollector(cls(settings) for name, cls in ALL.items() if name != "systemd")
    )
    exposed = set(re.findall(r"^# TYPE (\S+)", generate_latest(registry).decode(), re.M))
    # the systemd collector needs a running systemd, mdadm and bonding a RAID and a bond (their
    # parsing is unit-tested on sample files); their names are fixed in their modules
    exposed |= {"node_systemd_unit_state", "node_systemd_service_restart_total"}
    exposed |= {"node_md_disks", "node_md_disks_required"}
    exposed |= {"node_bonding_slaves", "node_bonding_active"}
    used = set()
    for rule in all_rules():
        used |= set(re.findall(r"(?<![:\w])((?:node|eyeshots)_\w+)(?![:\w])", rule["expr"]))
    # backup series come from the backup job's textfile (monitoring/backup_metrics.py)
    assert used - set(BACKUP_METRICS) - exposed == set()
