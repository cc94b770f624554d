"""roles/fail2ban with pyinfra: sshd jail (and nginx jails), bans through nftables."""

from __future__ import annotations

from pyinfra.api import deploy
from pyinfra.operations import apt, systemd

from provision.engines.pyinfra import variables
from provision.engines.pyinfra.files import managed
from provision.engines.pyinfra.operations import service


@deploy("fail2ban")
def apply() -> None:
    v = variables()
    # python3-systemd lets fail2ban read the journal; nftables carries the bans.
    apt.packages(
        name="Install fail2ban",
        packages=["fail2ban", "python3-systemd", "nftables"],
        no_recommends=True,
    )
    managed("fail2ban", v)
    systemd.service(name="Run fail2ban", service="fail2ban", running=True, enabled=True)
    # The package's own start fails without /var/log/auth.log, so on a first run the server was
    # started just above and answers only after a few seconds.
    service.pending(name="Reload fail2ban jails", service="fail2ban", ready="fail2ban-client ping")
