"""roles/fail2ban with pyinfra: sshd jail (and nginx jails), bans through nftables."""

from __future__ import annotations

from pyinfra.api import deploy
from pyinfra.operations import apt, systemd

from provision.engines.pyinfra import variables
from provision.engines.pyinfra.operations import config, service
from provision.templates import render

# fail2ban can only test a whole config directory: test a copy with the new jail.local in it.
VALIDATE = (
    'sh -c \'d=$(mktemp -d) && cp -a /etc/fail2ban/. "$d" && cp "$1" "$d/jail.local"'
    ' && fail2ban-client -c "$d" -t >/dev/null; rc=$?; rm -rf "$d"; exit $rc\' _ %s'
)


@deploy("fail2ban")
def apply() -> None:
    v = variables()
    # python3-systemd lets fail2ban read the journal; nftables carries the bans.
    apt.packages(
        name="Install fail2ban",
        packages=["fail2ban", "python3-systemd", "nftables"],
        no_recommends=True,
    )
    config.file(
        name="fail2ban jails",
        content=render("fail2ban", "jail.local.j2", v),
        dest="/etc/fail2ban/jail.local",
        validate=VALIDATE,
        notify="fail2ban",
    )
    systemd.service(name="Run fail2ban", service="fail2ban", running=True, enabled=True)
    service.pending(name="Reload fail2ban jails", service="fail2ban")
