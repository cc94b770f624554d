"""Sandbox networking: one bridge per /24 on the host, a network namespace and veth per machine,
outbound NAT. Every rule this adds carries a comment so teardown removes exactly its own."""

from __future__ import annotations

import ipaddress
import json
import os
from pathlib import Path

from provision.errors import OperatorError
from provision.shell import run, succeeds

DEFAULT_SUBNET = "10.213.0.0/24"


def default_subnet() -> str:
    """EYESHOTS_SANDBOX_SUBNET, else DEFAULT_SUBNET: what every command uses unless told."""
    return os.environ.get("EYESHOTS_SANDBOX_SUBNET") or DEFAULT_SUBNET


RULE_TAG = "eyeshots-sandbox"
FORWARD_SYSCTL = Path("/proc/sys/net/ipv4/ip_forward")


def parse_subnet(text: str) -> ipaddress.IPv4Network:
    try:
        subnet = ipaddress.IPv4Network(text, strict=True)
    except ValueError as error:
        raise OperatorError(
            f"--subnet {text}: {error}; give a private /24 such as {DEFAULT_SUBNET}"
        ) from None
    if subnet.prefixlen != 24 or not subnet.is_private:
        raise OperatorError(f"--subnet {text}: must be a private /24 such as {DEFAULT_SUBNET}")
    return subnet


def bridge_name(subnet: ipaddress.IPv4Network) -> str:
    return "esb" + "".join(f"{octet:02x}" for octet in subnet.network_address.packed[:3])


def netns_name(machine: str) -> str:
    return f"eyeshots-{machine}"


def veth_name(machine: str) -> str:
    return f"es-{machine}"


def gateway(subnet: ipaddress.IPv4Network) -> ipaddress.IPv4Address:
    return subnet.network_address + 1


def allocate_address(subnet: ipaddress.IPv4Network, taken: set[str]) -> str:
    for host in subnet.hosts():
        if host == gateway(subnet) or str(host) in taken:
            continue
        return str(host)
    raise OperatorError(
        f"no free address left in {subnet}; take a machine down or use another --subnet"
    )


def check_subnet_free(subnet: ipaddress.IPv4Network) -> None:
    """Refuse a subnet the host already routes elsewhere: the machines would be unreachable."""
    ours = bridge_name(subnet)
    for route in json.loads(run(["ip", "-j", "-4", "route", "show", "table", "all"]) or "[]"):
        destination = route.get("dst", "")
        if (
            route.get("dev") == ours
            or destination in ("", "default")
            or route.get("type")
            in (
                "local",
                "broadcast",
            )
        ):
            continue
        try:
            network = ipaddress.IPv4Network(destination, strict=False)
        except ValueError:
            continue
        if network.overlaps(subnet):
            raise OperatorError(
                f"subnet {subnet} clashes with the host's route {destination} on {route.get('dev')}; "
                "choose another with --subnet (or EYESHOTS_SANDBOX_SUBNET)"
            )


def _uplink_mtu() -> int:
    """The machines' MTU must not exceed the host uplink's, or large downloads stall."""
    routes = json.loads(run(["ip", "-j", "-4", "route", "show", "default"]) or "[]")
    if not routes:
        return 1500
    links = json.loads(run(["ip", "-j", "link", "show", "dev", routes[0]["dev"]]))
    return min(1500, int(links[0].get("mtu", 1500)))


def _nat_rules(subnet: ipaddress.IPv4Network) -> list[list[str]]:
    bridge = bridge_name(subnet)
    tag = ["-m", "comment", "--comment", f"{RULE_TAG}:{subnet}"]
    return [
        ["-t", "nat", "POSTROUTING", "-s", str(subnet), "!", "-o", bridge, "-j", "MASQUERADE", *tag],
        ["-t", "filter", "FORWARD", "-i", bridge, "-j", "ACCEPT", *tag],
        [
            "-t", "filter", "FORWARD", "-o", bridge,
            "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT", *tag,
        ],
    ]  # fmt: skip


def _rule_command(action: str, rule: list[str]) -> list[str]:
    table_flag, table, chain, *spec = rule
    return ["iptables", "-w", table_flag, table, action, chain, *spec]


def ensure_bridge(subnet: ipaddress.IPv4Network, state: Path) -> None:
    bridge = bridge_name(subnet)
    if succeeds(["ip", "link", "show", "dev", bridge]):
        return
    check_subnet_free(subnet)
    mtu = str(_uplink_mtu())
    run(["ip", "link", "add", bridge, "mtu", mtu, "type", "bridge"])
    run(["ip", "addr", "add", f"{gateway(subnet)}/24", "dev", bridge])
    run(["ip", "link", "set", bridge, "up"])
    forward_file = state / "ip_forward.orig"
    if not forward_file.exists():
        forward_file.write_text(FORWARD_SYSCTL.read_text())
    FORWARD_SYSCTL.write_text("1\n")
    for rule in _nat_rules(subnet):
        if not succeeds(_rule_command("-C", rule)):
            run(_rule_command("-I", rule))


def remove_bridge(subnet: ipaddress.IPv4Network, state: Path) -> None:
    for rule in _nat_rules(subnet):
        while succeeds(_rule_command("-C", rule)):
            run(_rule_command("-D", rule))
    bridge = bridge_name(subnet)
    if succeeds(["ip", "link", "show", "dev", bridge]):
        run(["ip", "link", "del", bridge])
    forward_file = state / "ip_forward.orig"
    if forward_file.exists() and not any_bridge_left():
        FORWARD_SYSCTL.write_text(forward_file.read_text())
        forward_file.unlink()


def any_bridge_left() -> bool:
    links = json.loads(run(["ip", "-j", "link", "show", "type", "bridge"]) or "[]")
    return any(link["ifname"].startswith("esb") for link in links)


def attach_machine(name: str, subnet: ipaddress.IPv4Network, address: str) -> None:
    """Give the machine a namespace whose eth0 sits on the subnet's bridge, like a VPS NIC."""
    netns, veth, bridge = netns_name(name), veth_name(name), bridge_name(subnet)
    mtu = run(["cat", f"/sys/class/net/{bridge}/mtu"]).strip()
    run(["ip", "netns", "add", netns])
    run(
        [
            "ip",
            "link",
            "add",
            veth,
            "mtu",
            mtu,
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            netns,
        ]
    )
    run(["ip", "link", "set", veth, "master", bridge, "up"])
    inside = ["ip", "-n", netns]
    run([*inside, "link", "set", "lo", "up"])
    run([*inside, "addr", "add", f"{address}/24", "dev", "eth0"])
    run([*inside, "link", "set", "eth0", "up"])
    run([*inside, "route", "add", "default", "via", str(gateway(subnet))])


def detach_machine(name: str) -> None:
    veth, netns = veth_name(name), netns_name(name)
    if succeeds(["ip", "link", "show", "dev", veth]):
        run(["ip", "link", "del", veth])
    if Path("/run/netns", netns).exists():
        run(["ip", "netns", "del", netns])


def leftovers() -> list[str]:
    """Everything of ours still on the host network stack (used by `down` checks and tests)."""
    found = [
        f"netns {n}" for n in run(["ip", "netns", "list"]).split() if n.startswith("eyeshots-")
    ]
    for link in json.loads(run(["ip", "-j", "link", "show"]) or "[]"):
        if link["ifname"].startswith(("es-", "esb")):
            found.append(f"link {link['ifname']}")
    for table in ("nat", "filter"):
        found += [
            f"iptables {line}"
            for line in run(["iptables", "-w", "-t", table, "-S"]).splitlines()
            if RULE_TAG in line
        ]
    return found
