"""Values the suite expects that are computed from role variables rather than set directly.

Each comes from the role data (roles/<role>/vars), so the suite never restates a rule."""

from __future__ import annotations

# roles whose templates/*.service.j2 and *.timer.j2 provisioning installs as platform units
from provision.engines.pyinfra.roles.platform import SERVICE_ROLES
from provision.paths import ROLES_DIR

# ARCHITECTURE.md: every unit runs sandboxed at `systemd-analyze security` exposure <= 2.0
MAX_EXPOSURE = 2.0


def ufw_rules(v: dict) -> list[str]:
    """The UFW rules (as `ufw show added` spells them, without `ufw `) the host must have."""
    return list(v["firewall_rules"])


def sysctls(v: dict) -> dict[str, object]:
    return dict(v["kernel_sysctl_applied"])


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
