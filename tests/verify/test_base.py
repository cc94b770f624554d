"""roles/base: admin user and sudo, hostname, time, packages, journald, unattended upgrades."""

from __future__ import annotations


def test_admin_user_has_sudo_through_a_valid_sudoers_drop_in(host, v):
    admin = host.user(v["admin_user"])
    assert admin.exists and admin.shell in ("/bin/bash", "/usr/bin/bash")
    sudoers = host.file("/etc/sudoers.d/90-eyeshots-admin")
    assert (sudoers.user, sudoers.group, sudoers.mode) == ("root", "root", 0o440)
    nopasswd = "NOPASSWD: " if v["admin_sudo_nopasswd"] else ""
    assert f"{v['admin_user']} ALL=(ALL:ALL) {nopasswd}ALL" in sudoers.content_string
    assert host.run("visudo -c").rc == 0


def test_admin_keys_are_authorized(host, v):
    home = host.user(v["admin_user"]).home
    keys = host.file(f"{home}/.ssh/authorized_keys")
    assert keys.user == v["admin_user"] and keys.mode & 0o077 == 0
    for key in v["admin_authorized_keys"]:
        assert key.strip() in keys.content_string


def test_hostname_and_timezone(host, v):
    assert host.check_output("hostname").strip() == v["base_hostname"]
    assert f"127.0.1.1 {v['base_hostname']}" in host.file("/etc/hosts").content_string
    assert host.file("/etc/localtime").linked_to.endswith(v["base_timezone"])


def test_base_packages_installed(host, v):
    for name in v["base_packages"]:
        assert host.package(name).is_installed, name


def test_time_sync(host, v):
    timesyncd = host.check_output("systemd-analyze cat-config systemd/timesyncd.conf")
    assert f"NTP={' '.join(v['base_ntp_servers'])}" in timesyncd
    assert host.service("systemd-timesyncd").is_enabled


def test_journald_bounded(host, v):
    journald = host.check_output("systemd-analyze cat-config systemd/journald.conf")
    assert f"SystemMaxUse={v['base_journald_system_max_use']}" in journald
    assert f"SystemKeepFree={v['base_journald_system_keep_free']}" in journald
    assert f"MaxRetentionSec={v['base_journald_max_retention']}" in journald


def test_unattended_upgrades(host, v):
    apt_config = host.check_output("apt-config dump")
    on = 1 if v["base_unattended_upgrades"] else 0
    assert f'APT::Periodic::Unattended-Upgrade "{on}";' in apt_config
    reboot = "true" if v["base_unattended_reboot"] else "false"
    assert f'Unattended-Upgrade::Automatic-Reboot "{reboot}";' in apt_config
    assert host.package("unattended-upgrades").is_installed
    for timer in ("apt-daily.timer", "apt-daily-upgrade.timer"):
        assert host.service(timer).is_enabled
