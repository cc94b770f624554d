"""roles/base with pyinfra: packages, hostname, time, journald, unattended upgrades, admin user."""

from __future__ import annotations

import shlex

from pyinfra import host, logger
from pyinfra.api import deploy
from pyinfra.facts.files import File
from pyinfra.operations import apt, files, python, server, systemd

from provision.engines.pyinfra import variables
from provision.engines.pyinfra.facts.host import Container
from provision.engines.pyinfra.files import managed
from provision.engines.pyinfra.operations import service


@deploy("base")
def apply() -> None:
    v = variables()
    apt.update(name="Refresh apt package lists", cache_time=v["base_apt_cache_valid_time"])
    apt.packages(name="Install base packages", packages=v["base_packages"], no_recommends=True)
    _first_run_security_upgrade(v)

    hostname = v["base_hostname"]
    server.hostname(name="Set the hostname", hostname=hostname)
    files.line(
        name="Resolve the hostname locally",
        path="/etc/hosts",
        line=r"^127\.0\.1\.1\s",
        replace=f"127.0.1.1 {hostname}",
    )
    server.timezone(name="Set the timezone", timezone=v["base_timezone"])

    _admin_user(v)
    managed("base", v)
    _time_sync()
    service.pending(
        name="Restart journald on new limits", service="systemd-journald", action="restart"
    )


def _time_sync() -> None:
    container = host.get_fact(Container)
    if container:
        # A container cannot set the clock; systemd skips timesyncd there by its own condition.
        logger.info(
            f"[{host.name}] time sync: in a {container} container, the host's clock is used"
        )
        systemd.service(
            name="Enable time sync", service="systemd-timesyncd", enabled=True, running=None
        )
        return
    systemd.service(name="Run time sync", service="systemd-timesyncd", running=True, enabled=True)
    service.pending(
        name="Restart time sync on new servers", service="systemd-timesyncd", action="restart"
    )


def _admin_user(v: dict) -> None:
    user = v["admin_user"]
    server.user(
        name=f"Admin user {user} with the operator's SSH keys",
        user=user,
        shell="/bin/bash",
        create_home=True,
        public_keys=v["admin_authorized_keys"],
        delete_keys=True,
    )


# unattended-upgrade installs what the distribution's 50unattended-upgrades allows (its security
# origins), in one dpkg run rather than package by package (minutes faster), and never reboots
# (the stock Automatic-Reboot is off). Then what needs a reboot: /run/reboot-required (written by
# kernel and libc hooks), and needrestart's batch report where it is installed (Ubuntu).
FIRST_UPGRADE = """unattended-upgrade --verbose --no-minimal-upgrade-steps > {new} 2>&1 || {{ tail -n 20 {new} >&2; exit 1; }}
if [ -e /run/reboot-required ]; then
  echo "reboot-required: yes $(sort -u /run/reboot-required.pkgs 2>/dev/null | tr '\\n' ' ')"
else
  echo "reboot-required: no"
fi >> {new}
if command -v needrestart > /dev/null; then needrestart -b -r l >> {new} 2>&1; fi
mv {new} {log}"""


def _first_run_security_upgrade(v: dict) -> None:
    log = v["base_first_run_upgrade_log"]
    if not v["base_first_run_security_upgrade"] or host.get_fact(File, path=log):
        return
    server.shell(
        name="Install pending security updates (first provision)",
        commands=[FIRST_UPGRADE.format(new=shlex.quote(log + ".new"), log=shlex.quote(log))],
    )
    python.call(name="Report whether a reboot is needed", function=_report_upgrade, log=log)


def _report_upgrade(log: str) -> None:
    _, output = host.run_shell_command(
        f"grep -E '^(Packages that will be upgraded|reboot-required|NEEDRESTART-)' {shlex.quote(log)}"
    )
    lines = output.stdout_lines
    upgraded = next((x.split(":", 1)[1].split() for x in lines if x.startswith("Packages")), [])
    logger.info(f"[{host.name}] first provision: {len(upgraded)} security update(s) installed")
    reboot = next((x for x in lines if x.startswith("reboot-required: yes")), None)
    # needrestart's kernel status: 1 current, 2 ABI-compatible upgrade, 3 version upgrade.
    kernel = next((x.split()[-1] for x in lines if x.startswith("NEEDRESTART-KSTA:")), "1")
    services = [x.split()[-1] for x in lines if x.startswith("NEEDRESTART-SVC:")]
    if reboot or kernel != "1":
        logger.warning(f"[{host.name}] a reboot is needed to finish the updates ({log})")
    elif services:
        logger.warning(f"[{host.name}] services running old code: {', '.join(services)}")
    else:
        logger.info(f"[{host.name}] no reboot needed")
