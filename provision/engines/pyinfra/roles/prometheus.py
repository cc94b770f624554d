"""roles/prometheus with pyinfra: Debian's Prometheus and Alertmanager, the alert rules from
monitoring/rules, every file checked by promtool/amtool before it replaces the old one."""

from __future__ import annotations

from pyinfra.api import deploy
from pyinfra.operations import apt, files, systemd

from monitoring.config import RULES_DIR
from provision.engines.pyinfra import variables
from provision.engines.pyinfra.files import managed
from provision.engines.pyinfra.operations import config, service

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
    managed(ROLE, v)
    for unit in ("prometheus", ALERTMANAGER):
        systemd.service(name=f"Run {unit}", service=unit, running=True, enabled=True)
        service.pending(name=f"Restart {unit} for new arguments", service=unit, action="restart")
        service.pending(name=f"Reload {unit}", service=unit)
