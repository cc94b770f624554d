"""`eyeshots provision` refuses bad inventories before connecting to anything."""

from __future__ import annotations

import socket
import textwrap

from eyeshots_cli import eyeshots


def _inventory(tmp_path, hosts: str, group_vars: str = ""):
    (tmp_path / "hosts.yml").write_text(textwrap.dedent(hosts))
    if group_vars:
        (tmp_path / "group_vars").mkdir()
        (tmp_path / "group_vars" / "all.yml").write_text(textwrap.dedent(group_vars))
    return str(tmp_path)


def _one_line(result):
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_missing_inventory(tmp_path):
    line = _one_line(eyeshots("provision", "-i", str(tmp_path / "nope")))
    assert "no inventory at" in line and "hosts.yml" in line


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    inventory = _inventory(tmp_path, "all:\n  children:\n    web:\n      hosts: [unclosed\n")
    line = _one_line(eyeshots("provision", "-i", inventory))
    assert "hosts.yml:" in line and "fix the YAML syntax" in line


def test_wrong_variable_type_names_variable_and_file(tmp_path):
    inventory = _inventory(
        tmp_path,
        """
        all:
          hosts:
            vps1: {ansible_host: 127.0.0.1}
        """,
        """
        admin_sudo_nopasswd: "sometimes"
        base_packages: {curl: latest}
        """,
    )
    line = _one_line(eyeshots("provision", "-i", inventory))
    assert "admin_sudo_nopasswd must be a bool" in line
    assert "base_packages must be a list of str" in line
    assert "group_vars/all.yml" in line


def test_required_variable_missing(tmp_path):
    inventory = _inventory(
        tmp_path, "all:\n  hosts:\n    vps1: {ansible_host: 127.0.0.1}\n", "admin_user: ''\n"
    )
    line = _one_line(eyeshots("provision", "-i", inventory))
    assert "admin_user is required for host vps1" in line


def test_undefined_reference(tmp_path):
    inventory = _inventory(
        tmp_path,
        "all:\n  hosts:\n    vps1: {ansible_host: 127.0.0.1}\n",
        "base_hostname: '{{ nope }}'\n",
    )
    line = _one_line(eyeshots("provision", "-i", inventory))
    assert "base_hostname" in line and "nope" in line


def test_unreachable_host_fails_fast_with_its_name(tmp_path):
    port = _closed_port()
    inventory = _inventory(
        tmp_path,
        f"all:\n  hosts:\n    vps-gone: {{ansible_host: 127.0.0.1, ansible_port: {port}}}\n",
    )
    result = eyeshots("provision", "-i", inventory, timeout=30)
    line = _one_line(result)
    assert f"host vps-gone (127.0.0.1:{port}) is unreachable" in line


def test_limit_to_unknown_host(tmp_path):
    inventory = _inventory(tmp_path, "all:\n  hosts:\n    vps1: {ansible_host: 127.0.0.1}\n")
    line = _one_line(eyeshots("provision", "-i", inventory, "--limit", "vps2"))
    assert "--limit vps2: no such host" in line


def test_acme_mode_needs_email_and_domain_must_be_a_dns_name(tmp_path):
    inventory = _inventory(
        tmp_path,
        "all:\n  hosts:\n    vps1: {ansible_host: 127.0.0.1}\n",
        "tls_mode: acme\neyeshots_domain: Not_A_Domain\n",
    )
    line = _one_line(eyeshots("provision", "-i", inventory))
    assert "tls_mode is acme but all of the following are missing: tls_acme_email" in line
    assert "eyeshots_domain must be a lower-case DNS name" in line


def test_ecdsa_admin_key_is_refused(tmp_path):
    inventory = _inventory(
        tmp_path,
        "all:\n  hosts:\n    vps1: {ansible_host: 127.0.0.1}\n",
        "admin_authorized_keys:\n  - ecdsa-sha2-nistp256 AAAAE2VjZHNh ops@laptop\n",
    )
    line = _one_line(eyeshots("provision", "-i", inventory))
    assert "admin_authorized_keys" in line and "ECDSA keys are refused" in line
