"""roles/firewall: UFW active with the inventory's defaults and exactly the managed rules."""

from __future__ import annotations

import pytest

from tests.verify import expected


@pytest.fixture(scope="module")
def status(host) -> str:
    return host.check_output("ufw status verbose")


def test_firewall_is_active_with_the_default_policies(host, status, v):
    assert "Status: active" in status
    routed = v["firewall_default_routed"]
    forwarding = host.check_output("cat /proc/sys/net/ipv4/ip_forward").strip()
    if forwarding == "0":
        # With IP forwarding off (roles/kernel) UFW shows the routed policy as "disabled".
        routed = "disabled"
    assert (
        f"Default: {v['firewall_default_incoming']} (incoming), "
        f"{v['firewall_default_outgoing']} (outgoing), {routed} (routed)"
    ) in status
    assert f"Logging: on ({v['firewall_logging']})" in status


def test_exactly_the_managed_rules(host, v):
    added = [
        line.removeprefix("ufw ")
        for line in host.check_output("ufw show added").splitlines()
        if line.startswith("ufw ")
    ]
    wanted = expected.ufw_rules(v)
    assert set(wanted) <= set(added), added
    if v["firewall_purge_unknown_rules"]:
        assert set(added) == set(wanted), added


def test_ipv6_filtered_and_sysctl_left_to_the_kernel_role(host, status, v):
    defaults = host.file("/etc/default/ufw").content_string
    assert f"IPV6={'yes' if v['firewall_ipv6'] else 'no'}" in defaults
    assert "\nIPT_SYSCTL=" not in defaults
    if v["firewall_ipv6"]:
        assert f"{v['ssh_port']}/tcp (v6)" in status
