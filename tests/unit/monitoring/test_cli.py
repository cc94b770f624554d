from __future__ import annotations

import yaml
from click.testing import CliRunner

# render moved to the operator side (provision.monitoring_commands); the group has both commands
from provision.monitoring_commands import monitoring as cli


def test_check_rules_runs_promtool_on_the_production_rules():
    result = CliRunner().invoke(cli, ["check-rules"])
    assert result.exit_code == 0, result.output


def test_render_with_overrides():
    result = CliRunner().invoke(
        cli,
        [
            "render",
            "alertmanager.yml",
            "--set",
            'alertmanager_webhook_urls=["http://127.0.0.1:9/a"]',
        ],
    )
    assert result.exit_code == 0, result.output
    config = yaml.safe_load(result.output)
    assert config["receivers"][0]["webhook_configs"][0]["url"] == "http://127.0.0.1:9/a"


def test_render_bad_override_is_one_line_error():
    result = CliRunner().invoke(cli, ["render", "prometheus.yml", "--set", "no equals sign"])
    assert result.exit_code == 2
    assert "expected VAR=VALUE" in result.output
