"""Values the suite expects that are computed from role variables rather than set directly.

Each comes from the code provisioning uses (today provision/deploys; once the roles carry these
as data, from the role variables), so the suite never restates a rule or a unit list."""

from __future__ import annotations

from provision.deploys.firewall import wanted_rules
from provision.deploys.platform import SERVICE_ROLES
from provision.paths import ROLES_DIR

# ARCHITECTURE.md: every unit runs sandboxed at `systemd-analyze security` exposure <= 2.0
MAX_EXPOSURE = 2.0


def ufw_rules(v: dict) -> list[str]:
    """The UFW rules (as `ufw show added` spells them, without `ufw `) the host must have."""
    return wanted_rules(v)


def sysctls(v: dict) -> dict[str, object]:
    return {**v["kernel_sysctl"], **(v["kernel_sysctl_extra"] or {})}


def platform_units(v: dict) -> list[str]:
    """The platform's unit files provisioning installs in /etc/systemd/system."""
    roles = [r for r in SERVICE_ROLES if r != "backup" or v["backup_repository"]]
    return [
        template.name.removesuffix(".j2")
        for role in roles
        for template in sorted((ROLES_DIR / role / "templates").glob("*.j2"))
        if template.name.removesuffix(".j2").endswith((".service", ".timer"))
    ]


def loopback_listeners(v: dict) -> dict[str, str]:
    """Services that must listen on loopback only, by the address their variable gives."""
    listeners = {
        "prometheus": v["prometheus_listen_address"],
        "alertmanager": v["alertmanager_listen_address"],
        "exporter": v["exporter_listen_address"],
    }
    if v["nginx_enabled"]:
        listeners["nginx placeholder"] = v["nginx_placeholder_listen"]
        listeners["nginx local"] = v["nginx_local_listen"]
    return listeners


def public_ports(v: dict) -> set[int]:
    """TCP/UDP ports that may listen on a non-loopback address."""
    ports = {int(v["ssh_port"])}
    if v["nginx_enabled"]:
        ports |= {80, 443}
    return ports
