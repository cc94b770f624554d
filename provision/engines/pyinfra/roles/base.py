"""roles/base with pyinfra: packages, hostname, time, journald, unattended upgrades, admin user."""

from __future__ import annotations

from pyinfra import host, logger
from pyinfra.api import deploy
from pyinfra.operations import apt, files, server, systemd

from provision.engines.pyinfra import variables
from provision.engines.pyinfra.facts.host import Container
from provision.engines.pyinfra.files import managed
from provision.engines.pyinfra.operations import service


@deploy("base")
def apply() -> None:
    v = variables()
    apt.update(name="Refresh apt package lists", cache_time=v["base_apt_cache_valid_time"])
    apt.packages(name="Install base packages", packages=v["base_packages"], no_recommends=True)

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
