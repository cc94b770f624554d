"""roles/prometheus: Prometheus runs every rule of monitoring/rules, Alertmanager routes to
the configured receivers; both valid and on loopback."""

from __future__ import annotations

import json

import yaml

from monitoring.config import RULES_DIR


def test_configs_valid(host, v):
    assert host.run("promtool check config %s", v["prometheus_config_file"]).rc == 0
    assert host.run("amtool check-config %s", v["alertmanager_config_file"]).rc == 0


def test_every_rule_loaded_and_healthy(host, v):
    wanted = sum(
        len(group["rules"])
        for path in sorted(RULES_DIR.glob("*.yml"))
        for group in yaml.safe_load(path.read_text())["groups"]
    )
    rules = json.loads(
        host.check_output("curl -sf http://%s/api/v1/rules", v["prometheus_listen_address"])
    )
    loaded = [rule for group in rules["data"]["groups"] for rule in group["rules"]]
    assert len(loaded) == wanted > 0
    assert all(rule["health"] != "err" for rule in loaded), loaded


def test_scrape_targets(host, v):
    targets = json.loads(
        host.check_output("curl -sf http://%s/api/v1/targets", v["prometheus_listen_address"])
    )
    jobs = {target["labels"]["job"] for target in targets["data"]["activeTargets"]}
    assert {"node", "eyeshots-app", "prometheus", "alertmanager"} <= jobs


def test_alertmanager_ready_with_its_receivers(host, v):
    assert host.run("curl -sf http://%s/-/ready", v["alertmanager_listen_address"]).rc == 0
    config = host.file(v["alertmanager_config_file"]).content_string
    for url in v["alertmanager_webhook_urls"]:
        assert url in config
