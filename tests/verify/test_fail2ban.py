"""roles/fail2ban: the jails run and never ban the trusted sources."""

from __future__ import annotations

import ipaddress


def test_jails_running(host, v):
    assert host.service("fail2ban").is_running
    jails = host.check_output("fail2ban-client status")
    wanted = ["sshd"]
    if v["fail2ban_nginx_jails"] and v["nginx_enabled"]:
        wanted += ["nginx-http-auth", "nginx-limit-req", "nginx-botsearch"]
    for jail in wanted:
        assert jail in jails, jails


def test_sshd_jail_settings(host, v):
    def get(setting: str) -> str:
        return host.check_output(f"fail2ban-client get sshd {setting}")

    # fail2ban lists networks normalised (127.0.0.1/8 shows as 127.0.0.0/8)
    ignored = {
        ipaddress.ip_network(line.split()[-1], strict=False)
        for line in get("ignoreip").splitlines()[1:]
    }
    for source in [*v["fail2ban_ignoreip"], *v["trusted_admin_sources"]]:
        assert ipaddress.ip_network(source, strict=False) in ignored, source
    assert get("maxretry").strip() == str(v["fail2ban_maxretry"])
