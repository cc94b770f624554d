"""roles/exporter and roles/prometheus templates render into configs the real tools accept."""

from __future__ import annotations

import subprocess
import sys

import pytest

from provision.monitoring_commands import render


def check(argv: list[str]) -> None:
    result = subprocess.run(argv, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_config_defaults_and_tls_scrape(tmp_path):
    (tmp_path / "rules").mkdir()
    (tmp_path / "ca.crt").write_text("")
    (tmp_path / "password").write_text("x\n")
    plain = tmp_path / "plain.yml"
    plain.write_text(
        render("prometheus", "prometheus.yml", prometheus_rules_dir=str(tmp_path / "rules"))
    )
    check(["promtool", "check", "config", str(plain)])
    assert "job_name: node\n" in plain.read_text()
    secured = tmp_path / "secured.yml"
    secured.write_text(
        render(
            "prometheus",
            "prometheus.yml",
            prometheus_rules_dir=str(tmp_path / "rules"),
            prometheus_node_scheme="https",
            prometheus_node_ca_file=str(tmp_path / "ca.crt"),
            prometheus_node_basic_auth_username="prometheus",
            prometheus_node_basic_auth_password_file=str(tmp_path / "password"),
            prometheus_external_labels={"env": "production"},
        )
    )
    check(["promtool", "check", "config", "--syntax-only", str(secured)])


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"alertmanager_webhook_urls": ["https://hooks.example.com/eyeshots"]},
        {
            "alertmanager_email_to": "ops@example.com",
            "alertmanager_email_from": "alertmanager@example.com",
            "alertmanager_smtp_smarthost": "smtp.example.com:587",
            "alertmanager_smtp_auth_username": "alertmanager",
            "alertmanager_smtp_auth_password_file": "/etc/prometheus/smtp-password",
        },
    ],
)
def test_alertmanager_config_passes_amtool(tmp_path, overrides):
    path = tmp_path / "alertmanager.yml"
    path.write_text(render("prometheus", "alertmanager.yml", **overrides))
    check(["amtool", "check-config", str(path)])
    if overrides.get("alertmanager_webhook_urls"):
        route = ["amtool", "config", "routes", "test", f"--config.file={path}"]
        check([*route, "--verify.receivers=on-call", "alertname=NodeFilesystemAlmostOutOfSpace"])


def test_exporter_web_config_passes_promtool(tmp_path):
    path = tmp_path / "web.yml"
    users = {"prometheus": "$2y$10$" + "a" * 53}
    path.write_text(render("exporter", "exporter-web.yml", exporter_basic_auth_users=users))
    check(["promtool", "check", "web-config", str(path)])


def test_exporter_unit_passes_every_flag_the_exporter_knows(tmp_path):
    unit = render("exporter", "eyeshots-exporter.service", exporter_disabled_collectors=["netdev"])
    exec_start = unit.split("ExecStart=", 1)[1].split("\n\n", 1)[0].replace("\\\n", " ").split()
    assert exec_start[0].endswith("/eyeshots-exporter")
    # the flags the unit passes must parse: run them with --help appended
    result = subprocess.run(
        [sys.executable, "-m", "monitoring.exporter", *exec_start[1:], "--help"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "--no-collector.netdev" in exec_start
    assert "--web.listen-address=127.0.0.1:9100" in exec_start


def test_exporter_unit_sandbox_exposure_at_most_2(tmp_path):
    unit = tmp_path / "eyeshots-exporter.service"
    unit.write_text(render("exporter", "eyeshots-exporter.service"))
    # --threshold is exposure x 10: a non-zero exit means worse than 2.0
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--threshold=20", str(unit)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-1500:]
    assert "Overall exposure level for eyeshots-exporter.service" in result.stdout
