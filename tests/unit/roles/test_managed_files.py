"""Each role's `<role>_managed_files` (roles/<role>/vars/main.yml), the data both engines loop
over, is well formed for a host resolved from the role defaults."""

from __future__ import annotations

import re

import pytest

from provision.hostvars import defaults, role_names
from provision.paths import ROLES_DIR

KEYS = {"name", "template", "dest", "owner", "group", "mode", "validate", "notify", "action",
        "secret", "force", "state"}  # fmt: skip


@pytest.fixture(scope="module")
def variables():
    return defaults(name="managedcheck").variables


def test_every_managed_file_is_well_formed(variables):
    roles = [role for role in role_names() if f"{role}_managed_files" in variables]
    assert {"base", "ssh", "nginx", "kernel", "platform", "app", "backup"} <= set(roles)
    for role in roles:
        for entry in variables[f"{role}_managed_files"]:
            where = f"roles/{role}/vars/main.yml: {entry.get('name')}"
            assert {"name", "template", "dest"} <= set(entry) <= KEYS, where
            assert (ROLES_DIR / role / "templates" / entry["template"]).is_file(), where
            assert entry["dest"].startswith("/") and "{{" not in entry["dest"], where
            assert re.fullmatch(r"0[0-7]{3}", entry.get("mode", "0644")), where
            assert "%s" in entry.get("validate", "%s"), where
            assert entry.get("action", "reload") in {"reload", "restart", "daemon-reload"}, where
            assert entry.get("state", "present") in {"present", "absent"}, where


def test_computed_values_follow_the_variables_they_come_from():
    host = defaults(
        {"kernel_sysctl_extra": {"vm.swappiness": 10}, "tls_extra_domains": ["www.example.com"],
         "eyeshots_domain": "example.com", "kernel_disable_core_dumps": False,
         "trusted_admin_sources": ["198.51.100.7"], "ssh_port": 2222,
         "firewall_allow_http": False, "firewall_extra_rules": ["allow 9100/tcp"]},
        name="computed",
    ).variables  # fmt: skip
    assert host["kernel_sysctl_applied"]["vm.swappiness"] == 10
    assert host["tls_certificate_names"] == ["example.com", "www.example.com"]
    assert host["firewall_rules"] == [
        "allow from 198.51.100.7 to any port 2222 proto tcp", "limit 2222/tcp", "allow 9100/tcp"
    ]  # fmt: skip
    states = {e["template"]: e.get("state", "present") for e in host["kernel_managed_files"]}
    assert states["coredump.conf.j2"] == "absent"
