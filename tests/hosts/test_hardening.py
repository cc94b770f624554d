"""A hardened sandbox VPS, checked from inside by the verification suite (tests/verify: sshd,
UFW, sysctls, fail2ban, nginx, TLS, journald, updates, sudoers, services...) and from outside
by what only an outsider can see: SSH logins, ssh-audit, a port scan, TLS handshakes, the SSH
rate limit and fail2ban's ban; and a broken change that must leave the working config."""

from __future__ import annotations

import socket
import ssl
import subprocess
import time

import pytest
import yaml
from sandboxes import TEST_SUBNET, boot, destroy, provision, write_inventory

from provision.sandbox.cli import ssh_command
from tests.verify import suite as verification_suite

DOMAIN = "app.eyeshots.test"
EXTRA_RULE = f"allow from {TEST_SUBNET} to any port 9100 proto tcp"
WEBHOOK = "http://127.0.0.1:5001/alerts"


@pytest.fixture(scope="module")
def hardened(tmp_path_factory):
    """A machine provisioned twice (the second run must change nothing) and an outsider."""
    names = ("thard", "tout")
    try:
        host, outsider = boot("thard"), boot("tout")
        inventory = write_inventory(
            tmp_path_factory.mktemp("inventory"),
            "thard",
            yaml.safe_dump(
                {
                    "eyeshots_domain": DOMAIN,
                    "firewall_extra_rules": [EXTRA_RULE],
                    "alertmanager_webhook_urls": [WEBHOOK],
                }
            ),
        )
        first, _, _ = provision(inventory)
        assert first > 0
        second, out, _ = provision(inventory)
        assert second == 0, out
        yield host, outsider, inventory
    finally:
        for name in names:
            destroy(name)


def test_verification_suite_passes_on_the_host(hardened):
    _, _, inventory = hardened
    suite = verification_suite.run(inventory)
    assert suite.returncode == 0, suite.stdout[-6000:]
    print(f"verification suite: {verification_suite.summary(suite)}")


def test_logins_from_outside(hardened):
    host, _, _ = hardened
    address = host.machine.address

    def attempt(user: str, *options: str) -> subprocess.CompletedProcess:
        args = ssh_command(host.machine, user, ["true"])
        args[1:1] = ["-o", "BatchMode=yes", "-o", "ConnectTimeout=10", *options]
        return subprocess.run(args, capture_output=True, text=True, timeout=60)

    assert attempt("deploy").returncode == 0
    root = attempt("root")
    assert root.returncode == 255 and "Permission denied (publickey)" in root.stderr
    password = attempt(
        "deploy", "-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password"
    )
    assert password.returncode == 255 and "Permission denied (publickey)" in password.stderr
    assert address


def test_ssh_audit_finds_nothing_but_the_classical_fallbacks(hardened):
    """ssh-audit's only remarks may be the non-post-quantum key exchanges kept for paramiko."""
    host, _, _ = hardened
    import json

    report = json.loads(
        subprocess.run(
            ["ssh-audit", "-j", "-p", "22", host.machine.address],
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
    )
    recommendations = report.get("recommendations", {})
    assert "critical" not in recommendations, recommendations
    warnings = recommendations.get("warning", {})
    assert set(warnings) <= {"del"}, warnings
    removable = {item["name"] for item in warnings.get("del", {}).get("kex", [])}
    assert set(warnings.get("del", {})) <= {"kex"}, warnings
    assert removable <= {
        "curve25519-sha256",
        "curve25519-sha256@libssh.org",
        "diffie-hellman-group16-sha512",
        "diffie-hellman-group18-sha512",
    }
    assert not report.get("cves")


def _scan(address: str) -> set[int]:
    scan = subprocess.run(
        [
            "nmap",
            "-Pn",
            "-sS",
            "-p-",
            "--min-rate",
            "5000",
            "--max-retries",
            "1",
            "-oG",
            "-",
            address,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert scan.returncode == 0, scan.stderr
    open_ports = set()
    for line in scan.stdout.splitlines():
        if "Ports:" in line:
            for entry in line.split("Ports:")[1].split(","):
                port, state = entry.strip().split("/")[:2]
                if state == "open":
                    open_ports.add(int(port))
    return open_ports


def test_outside_port_scan_shows_only_ssh_and_web(hardened):
    host, _, _ = hardened
    open_ports = _scan(host.machine.address)
    print(f"nmap -p- from outside: open {sorted(open_ports)}")
    assert open_ports == {22, 80, 443}


def test_ssh_rate_limit_and_fail2ban_ban_an_outsider(hardened):
    host, outsider, _ = hardened
    address, outsider_ip = host.machine.address, outsider.machine.address
    # An outsider trying user names: sshd answers the first ones, then fail2ban's ban (5
    # failures; each attempt logs two in aggressive mode) and UFW's limit (6 new connections
    # in 30 s) cut it off.
    attempt = (
        "ssh -o BatchMode=yes -o ConnectTimeout=3 -o StrictHostKeyChecking=no "
        f"-o UserKnownHostsFile=/dev/null intruder@{address} true 2>&1 | tail -1"
    )
    # The outsider is not provisioned: root logs in there.
    answers = [outsider.ssh(attempt, check=False).stdout.strip() for _ in range(8)]
    reached = ["Permission denied" in answer for answer in answers]
    assert reached[:2] == [True, True], answers
    assert not any(reached[5:]), answers

    deadline = time.monotonic() + 60
    while outsider_ip not in host.sudo("fail2ban-client status sshd").stdout:
        assert time.monotonic() < deadline, host.sudo("fail2ban-client status sshd").stdout
        time.sleep(0.2)
    assert outsider_ip in host.sudo("nft list ruleset").stdout
    host.sudo(f"fail2ban-client set sshd unbanip {outsider_ip}")

    # The operator's host is a trusted source: never limited, never banned.
    for _ in range(8):
        with socket.create_connection((address, 22), timeout=5):
            pass
    assert host.machine.gateway() in host.sudo("fail2ban-client get sshd ignoreip").stdout


def _tls(address: str, server_name: str, **context_options) -> ssl.SSLSocket:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    for key, value in context_options.items():
        setattr(context, key, value)
    raw = socket.create_connection((address, 443), timeout=10)
    return context.wrap_socket(raw, server_hostname=server_name)


def _https(address: str, request: bytes, server_name: str = DOMAIN) -> bytes:
    with _tls(address, server_name) as connection:
        connection.sendall(request)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def test_nginx_tls_protocols_and_ciphers(hardened):
    host, _, _ = hardened
    address = host.machine.address
    assert host.sudo("nginx -t").returncode == 0
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        with _tls(address, DOMAIN, minimum_version=version, maximum_version=version) as tls:
            assert tls.version() == version.name.replace("v", "v").replace("_", ".")
    for version in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
        # The client must be willing (security level 0), so a refusal is the server's.
        old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        old.check_hostname, old.verify_mode = False, ssl.CERT_NONE
        old.set_ciphers("DEFAULT:@SECLEVEL=0")
        old.minimum_version = old.maximum_version = version
        with pytest.raises(ssl.SSLError):
            old.wrap_socket(
                socket.create_connection((address, 443), timeout=10), server_hostname=DOMAIN
            )
    # A CBC suite is not in Mozilla's intermediate list.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers("ECDHE-RSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA256")
    with pytest.raises(ssl.SSLError):
        context.wrap_socket(
            socket.create_connection((address, 443), timeout=10), server_hostname=DOMAIN
        )
    # The certificate covers the domain (self-signed mode in the sandbox).
    with _tls(address, DOMAIN) as tls:
        der = tls.getpeercert(binary_form=True)
    pem = ssl.DER_cert_to_PEM_cert(der)
    text = subprocess.run(
        ["openssl", "x509", "-noout", "-ext", "subjectAltName"],
        input=pem,
        capture_output=True,
        text=True,
    ).stdout
    assert f"DNS:{DOMAIN}" in text


def test_a_broken_change_leaves_the_working_config(hardened):
    host, _, inventory = hardened
    before_nginx = host.sudo("sha1sum /etc/nginx/nginx.conf").stdout
    before_sshd = host.sudo("sha1sum /etc/ssh/sshd_config").stdout
    vars_file = f"{inventory}/group_vars/all.yml"
    original = open(vars_file).read()
    try:
        with open(vars_file, "a") as extra:
            extra.write("nginx_ssl_ciphers: NOT-A-CIPHER\nssh_max_startups: 'many'\n")
        from eyeshots_cli import eyeshots

        result = eyeshots("provision", "-i", inventory)
        assert result.returncode != 0
        assert "validation failed" in result.stderr
        assert host.sudo("sha1sum /etc/nginx/nginx.conf").stdout == before_nginx
        assert host.sudo("sha1sum /etc/ssh/sshd_config").stdout == before_sshd
        assert host.sudo("systemctl is-active nginx ssh").stdout.split() == ["active", "active"]
        assert _https(
            host.machine.address,
            f"GET / HTTP/1.1\r\nHost: {DOMAIN}\r\nConnection: close\r\n\r\n".encode(),
        ).startswith(b"HTTP/1.1 200")
    finally:
        open(vars_file, "w").write(original)
    unchanged, _, _ = provision(inventory)
    assert unchanged == 0
