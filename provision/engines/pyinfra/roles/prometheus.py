"""roles/prometheus with pyinfra: Debian's Prometheus and Alertmanager, the alert rules from
monitoring/rules, every file checked by promtool/amtool before it replaces the old one."""

from __future__ import annotations

from pyinfra.api import deploy
from pyinfra.operations import apt, files, systemd

from monitoring.config import RULES_DIR
from provision.engines.pyinfra import variables
from provision.engines.pyinfra.operations import config, service
from provision.templates import render

ROLE = "prometheus"
ALERTMANAGER = "prometheus-alertmanager"


@deploy("prometheus")
def apply() -> None:
    v = variables()
    # Without recommends: they would pull in Debian's node exporter, listening on :9100 on every
    # address, in the way of eyeshots-exporter.
    apt.packages(
        name="Install Prometheus and Alertmanager",
        packages=["prometheus", ALERTMANAGER],
        no_recommends=True,
    )
    files.directory(name="Alert rules directory", path=v["prometheus_rules_dir"], mode="0755")
    for rules in sorted(RULES_DIR.glob("*.yml")):
        config.file(
            name=f"Alert rules {rules.name}",
            content=rules.read_text(),
            dest=f"{v['prometheus_rules_dir']}/{rules.name}",
            validate="promtool check rules %s >/dev/null",
            notify="prometheus",
        )
    config.file(
        name="prometheus.yml",
        content=render(ROLE, "prometheus.yml.j2", v),
        dest=v["prometheus_config_file"],
        validate="promtool check config --syntax-only %s >/dev/null",
        notify="prometheus",
    )
    config.file(
        name="Prometheus command line (retention, listen address)",
        content=render(ROLE, "prometheus.default.j2", v),
        dest="/etc/default/prometheus",
        notify="prometheus",
        notify_action="restart",
    )
    config.file(
        name="alertmanager.yml",
        content=render(ROLE, "alertmanager.yml.j2", v),
        dest=v["alertmanager_config_file"],
        mode="0640",
        group="prometheus",
        validate="amtool check-config %s >/dev/null",
        notify=ALERTMANAGER,
    )
    config.file(
        name="Alertmanager command line",
        content=render(ROLE, "prometheus-alertmanager.default.j2", v),
        dest=f"/etc/default/{ALERTMANAGER}",
        notify=ALERTMANAGER,
        notify_action="restart",
    )
    for unit in ("prometheus", ALERTMANAGER):
        systemd.service(name=f"Run {unit}", service=unit, running=True, enabled=True)
        service.pending(name=f"Restart {unit} for new arguments", service=unit, action="restart")
        service.pending(name=f"Reload {unit}", service=unit)
