"""roles/firewall with pyinfra: UFW, SSH allowed before the firewall is switched on."""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import apt, files

from provision.engines.pyinfra import variables
from provision.engines.pyinfra.facts.ufw import UfwRules
from provision.engines.pyinfra.operations import ufw


@deploy("firewall")
def apply() -> None:
    v = variables()
    apt.packages(name="Install UFW", packages=["ufw"], no_recommends=True)
    files.line(
        name="Filter IPv6 too" if v["firewall_ipv6"] else "Leave IPv6 to the host",
        path="/etc/default/ufw",
        line=r"^IPV6=",
        replace=f"IPV6={'yes' if v['firewall_ipv6'] else 'no'}",
    )
    files.line(
        name="Leave sysctl to roles/kernel",
        path="/etc/default/ufw",
        # UFW would otherwise re-apply its own sysctl.conf (log_martians=0 among others) on
        # every enable or reload, undoing the kernel hardening.
        line=r"^.*IPT_SYSCTL=",
        replace="#IPT_SYSCTL=/etc/ufw/sysctl.conf",
    )
    wanted = v["firewall_rules"]
    # Allow SSH before anything could start denying it.
    trusted = v["firewall_trusted_rules"]
    for rule in wanted:
        ufw.rule(name=f"Firewall: {rule}", rule=rule, first=rule in trusted)
    if v["firewall_purge_unknown_rules"]:
        for rule in host.get_fact(UfwRules) or []:
            if rule not in wanted:
                ufw.rule(name=f"Firewall: remove unmanaged rule {rule}", rule=rule, present=False)
    ufw.default(
        name="Firewall: incoming", direction="incoming", policy=v["firewall_default_incoming"]
    )
    ufw.default(
        name="Firewall: outgoing", direction="outgoing", policy=v["firewall_default_outgoing"]
    )
    ufw.default(name="Firewall: routed", direction="routed", policy=v["firewall_default_routed"])
    ufw.logging(name="Firewall: logging", level=v["firewall_logging"])
    ufw.enabled(name="Firewall: on")
