"""roles/base through pyinfra on a sandbox VPS: admin user, sudo, time, journald, updates,
and a second run that changes nothing (read from pyinfra's own JSON results)."""

from __future__ import annotations

from pathlib import Path

import pytest
from eyeshots_cli import eyeshots
from sandboxes import boot, changes, destroy, write_inventory


@pytest.fixture(scope="module")
def provisioned(tmp_path_factory):
    """One machine provisioned once for the module (a full provision takes most of a minute)."""
    try:
        box = boot("tbase")
        inventory = write_inventory(
            tmp_path_factory.mktemp("inventory"), "tbase", "base_timezone: Europe/Berlin\n"
        )
        first = eyeshots("provision", "-i", inventory)
        assert first.returncode == 0, first.stderr[-3000:]
        assert changes(first.stdout) > 0
        yield box, inventory, first
    finally:
        destroy("tbase")


def test_base_provision(provisioned):
    box, inventory, first = provisioned
    assert "==> tbase: root@" in first.stderr  # the admin user did not exist yet

    # The admin user logs in with the operator's key and has sudo.
    assert box.ssh("id -un", user="deploy").stdout.strip() == "deploy"
    assert box.ssh("sudo -n id -u", user="deploy").stdout.strip() == "0"
    assert box.sudo("visudo -c").returncode == 0
    assert box.sudo("stat -c %a /etc/sudoers.d/90-eyeshots-admin").stdout.strip() == "440"

    # Hostname, timezone, packages, time sync, journald and update policy are in place.
    assert box.sudo("hostname").stdout.strip() == "tbase"
    assert box.sudo("grep -c '127.0.1.1 tbase' /etc/hosts").stdout.strip() == "1"
    assert box.sudo("readlink -f /etc/localtime").stdout.strip().endswith("Europe/Berlin")
    for package in ("sudo", "curl", "unattended-upgrades", "systemd-timesyncd", "logrotate"):
        assert (
            "install ok installed" in box.sudo(f"dpkg-query -W -f='${{Status}}' {package}").stdout
        )
    assert box.sudo("systemctl is-enabled systemd-timesyncd").stdout.strip() == "enabled"
    assert (
        "NTP=0.pool.ntp.org" in box.sudo("systemd-analyze cat-config systemd/timesyncd.conf").stdout
    )
    journald = box.sudo("systemd-analyze cat-config systemd/journald.conf").stdout
    assert "SystemMaxUse=500M" in journald
    apt_config = box.sudo("apt-config dump").stdout
    assert 'APT::Periodic::Unattended-Upgrade "1";' in apt_config
    assert 'Unattended-Upgrade::Automatic-Reboot "false";' in apt_config

    # Second run: as the admin user now, and pyinfra reports no change at all.
    second = eyeshots("provision", "-i", inventory)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "==> tbase: deploy@" in second.stderr
    assert changes(second.stdout) == 0

    # A dry run plans nothing either.
    dry = eyeshots("provision", "-i", inventory, "--dry")
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert changes(dry.stdout, "would change") == 0


def test_dry_run_shows_diff_and_changes_nothing(provisioned):
    box, inventory, _ = provisioned
    Path(inventory, "group_vars", "all.yml").write_text(
        "base_timezone: Europe/Berlin\nbase_journald_system_max_use: 200M\n"
    )
    dry = eyeshots("provision", "-i", inventory, "--dry")
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert changes(dry.stdout, "would change") >= 1
    assert "Will modify" in dry.stderr and "SystemMaxUse=200M" in dry.stderr
    assert (
        "SystemMaxUse=500M" in box.sudo("cat /etc/systemd/journald.conf.d/50-eyeshots.conf").stdout
    )
