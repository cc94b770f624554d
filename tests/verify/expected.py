"""Values the suite expects that are computed from role variables rather than set directly.

Each comes from the role data when the roles carry it (roles/<role>/vars, issue 12), else from
the code provisioning uses today (provision/deploys), so the suite never restates a rule."""

from __future__ import annotations

from provision.paths import ROLES_DIR

# roles whose templates/*.service.j2 and *.timer.j2 provisioning installs as platform units
_SERVICE_ROLES_MODULES = ("provision.engines.pyinfra.roles.platform", "provision.deploys.platform")

# ARCHITECTURE.md: every unit runs sandboxed at `systemd-analyze security` exposure <= 2.0
MAX_EXPOSURE = 2.0


def ufw_rules(v: dict) -> list[str]:
    """The UFW rules (as `ufw show added` spells them, without `ufw `) the host must have."""
    if "firewall_rules" in v:
        return list(v["firewall_rules"])
    from provision.deploys.firewall import wanted_rules

    return wanted_rules(v)


def sysctls(v: dict) -> dict[str, object]:
    if "kernel_sysctl_applied" in v:
        return dict(v["kernel_sysctl_applied"])
    return {**v["kernel_sysctl"], **(v["kernel_sysctl_extra"] or {})}


def platform_units(v: dict) -> list[str]:
    """The platform's unit files provisioning installs in /etc/systemd/system."""
    roles = [r for r in _service_roles() if r != "backup" or v["backup_repository"]]
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


def _service_roles() -> tuple[str, ...]:
    import importlib

    for name in _SERVICE_ROLES_MODULES:
        try:
            return importlib.import_module(name).SERVICE_ROLES
        except ModuleNotFoundError:
            continue
    raise ModuleNotFoundError(f"SERVICE_ROLES in none of {', '.join(_SERVICE_ROLES_MODULES)}")
