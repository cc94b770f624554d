"""The one resolver of a host's variables (ansible-core) against the drifts the hand-written
emulation had: each test here failed under provision/inventory.py, validation.py or
templating.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from provision import argspecs, hostvars
from provision.errors import OperatorError
from provision.paths import PROJECT_ROOT, ROLES_DIR
from provision.templates import render


def inventory(tmp_path: Path, hosts: str, group_vars: str = "") -> Path:
    (tmp_path / "hosts.yml").write_text(textwrap.dedent(hosts))
    if group_vars:
        (tmp_path / "group_vars").mkdir()
        (tmp_path / "group_vars" / "all.yml").write_text(textwrap.dedent(group_vars))
    return tmp_path


def test_inline_all_vars_reach_hosts_of_child_groups(tmp_path):
    found = hostvars.load(
        inventory(
            tmp_path,
            """
            all:
              vars:
                base_timezone: Europe/Berlin
                admin_user: opsinline
              children:
                web:
                  hosts:
                    vps1:
                      ansible_host: 127.0.0.1
            """,
            "admin_user: opsfile\n",
        )
    )
    (host,) = found.hosts
    assert host.variables["base_timezone"] == "Europe/Berlin"
    # group_vars/all.yml beats the inline `all: vars:`, as in Ansible
    assert host.variables["admin_user"] == "opsfile"
    assert host.origins["admin_user"].endswith("group_vars/all.yml:1")
    # role defaults are resolved for the host: nothing left to template
    assert host.variables["base_hostname"] == "vps1"


@pytest.mark.parametrize("written", ["off", '"off"'])
def test_firewall_logging_off_is_valid_quoted_or_not(written):
    host = hostvars.defaults({})
    # YAML reads an unquoted off as False; Ansible maps it back to the one false-y choice
    host.variables["firewall_logging"] = False if written == "off" else "off"
    assert argspecs.validate(host) == []
    assert host.variables["firewall_logging"] == "off"


def test_ssh_port_as_a_string_is_converted_like_ansible():
    host = hostvars.defaults({})
    host.variables["ssh_port"] = "22"
    assert argspecs.validate(host) == []
    assert host.variables["ssh_port"] == 22
    host.variables["ssh_port"] = "twenty-two"
    (problem,) = argspecs.validate(host)
    assert problem.startswith("ssh_port must be a int, got 'twenty-two'")
    assert "roles/ssh/defaults/main.yml" in problem


def test_templates_render_byte_for_byte_as_ansible_template_module(tmp_path):
    """ansible-playbook's own template module against provision.templates, on the templates
    with includes and on `combine` with None (ansible-core 2.19 skips it)."""
    variables = {
        **hostvars.defaults({}).variables,
        "kernel_sysctl_extra": None,
        "tls_ocsp_stapling": False,
    }
    (tmp_path / "vars.json").write_text(json.dumps(variables))
    cases = [("kernel", "sysctl.conf.j2"), ("nginx", "nginx.conf.j2"), ("base", "sudoers.j2")]
    (tmp_path / "play.yml").write_text(
        json.dumps(
            [
                {
                    "hosts": "localhost",
                    "gather_facts": False,
                    "tasks": [
                        {
                            "ansible.builtin.template": {
                                "src": str(ROLES_DIR / role / "templates" / name),
                                "dest": str(tmp_path / name),
                                "mode": "0644",
                            }
                        }
                        for role, name in cases
                    ],
                }
            ]
        )
    )
    played = subprocess.run(
        [sys.executable, "-m", "ansible", "playbook", "-i", "localhost,", "-c", "local",
         "-e", f"ansible_python_interpreter={sys.executable}",
         "-e", f"@{tmp_path / 'vars.json'}", str(tmp_path / "play.yml")],
        capture_output=True, text=True,
        env={**os.environ, "ANSIBLE_CONFIG": str(PROJECT_ROOT / "ansible.cfg")},
    )  # fmt: skip
    assert played.returncode == 0, played.stdout + played.stderr
    for role, name in cases:
        assert render(role, name, variables) == (tmp_path / name).read_text(), name


def test_bad_variable_named_with_its_file_and_line_before_any_connection(tmp_path):
    found = hostvars.load(
        inventory(
            tmp_path,
            "all:\n  hosts:\n    vps1: {ansible_host: 192.0.2.1}\n",
            "base_timezone: UTC\nfirewall_logging: loud\n",
        )
    )
    with pytest.raises(OperatorError) as raised:
        argspecs.check(found.hosts)
    assert "firewall_logging must be one of: off, low, medium, high, full, got 'loud'" in str(
        raised.value
    )
    assert "group_vars/all.yml:2" in str(raised.value)


def test_monitoring_render_resolves_role_defaults():
    result = subprocess.run(
        [sys.executable, "-m", "provision", "monitoring", "render", "eyeshots-exporter.service"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "{{" not in result.stdout
    assert "--collector.tlscert.file=/etc/ssl/eyeshots/live/fullchain.pem" in result.stdout
