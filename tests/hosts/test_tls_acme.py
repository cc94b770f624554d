"""ACME HTTP-01 for real: Debian's pebble CA and pebble-challtestsrv DNS started by the test,
certbot on a sandbox VPS answering through nginx's webroot, nginx serving the issued chain,
`certbot renew --dry-run` passing, and a second provision changing nothing."""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from sandboxes import boot, destroy, provision, write_inventory

DOMAIN = "app.eyeshots.test"
ACME_PORT, MANAGEMENT_PORT, DNS_PORT, CHALLTEST_MANAGEMENT_PORT = 14000, 15000, 8053, 8055


def _wait_for_port(
    address: str, port: int, process: subprocess.Popen, deadline_s: float = 30
) -> None:
    deadline = time.monotonic() + deadline_s
    while True:
        assert process.poll() is None, f"{process.args[0]} exited early"
        try:
            socket.create_connection((address, port), timeout=1).close()
            return
        except OSError:
            assert time.monotonic() < deadline, (
                f"{process.args[0]} did not listen on {address}:{port}"
            )
            time.sleep(0.05)


@pytest.fixture(scope="module")
def acme(tmp_path_factory):
    """A sandbox machine plus a pebble ACME CA reachable from it on the host's bridge address."""
    work = tmp_path_factory.mktemp("pebble")
    processes: list[subprocess.Popen] = []
    try:
        box = boot("tacme")
        gateway = box.machine.gateway()
        # pebble ships no certificate for its own API: one for the bridge address.
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-days", "2", "-subj", "/CN=pebble", "-addext", f"subjectAltName=IP:{gateway},IP:127.0.0.1",
             "-keyout", str(work / "key.pem"), "-out", str(work / "cert.pem")],
            check=True, capture_output=True,
        )  # fmt: skip
        config = {
            "pebble": {
                "listenAddress": f"{gateway}:{ACME_PORT}",
                "managementListenAddress": f"127.0.0.1:{MANAGEMENT_PORT}",
                "certificate": str(work / "cert.pem"),
                "privateKey": str(work / "key.pem"),
                "httpPort": 80,
                "tlsPort": 443,
                "ocspResponderURL": "",
                "externalAccountBindingRequired": False,
            }
        }
        (work / "pebble.json").write_text(json.dumps(config))
        log = open(work / "pebble.log", "w")
        challtest = subprocess.Popen(
            ["pebble-challtestsrv", "-defaultIPv4", box.machine.address, "-defaultIPv6", "",
             "-dns01", f"127.0.0.1:{DNS_PORT}", "-http01", "", "-https01", "", "-tlsalpn01", "",
             "-management", f"127.0.0.1:{CHALLTEST_MANAGEMENT_PORT}"],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        processes.append(challtest)
        _wait_for_port("127.0.0.1", CHALLTEST_MANAGEMENT_PORT, challtest)
        # No random validation delay and no rejected nonces: the run is deterministic.
        env = {**os.environ, "PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0"}
        pebble = subprocess.Popen(
            ["pebble", "-config", str(work / "pebble.json"), "-dnsserver", f"127.0.0.1:{DNS_PORT}"],
            stdout=log, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
        processes.append(pebble)
        _wait_for_port(gateway, ACME_PORT, pebble)
        # Before provisioning only root logs in; this is where an operator of a private ACME
        # CA would place its certificate.
        box.ssh(
            "install -d -m 0755 /etc/eyeshots && cat > /etc/eyeshots/acme-ca.pem",
            input=(work / "cert.pem").read_text(),
        )
        inventory = write_inventory(
            tmp_path_factory.mktemp("inventory"),
            "tacme",
            yaml.safe_dump(
                {
                    "eyeshots_domain": DOMAIN,
                    "tls_mode": "acme",
                    "tls_acme_directory": f"https://{gateway}:{ACME_PORT}/dir",
                    "tls_acme_email": "ops@eyeshots.test",
                    "tls_acme_ca_bundle": "/etc/eyeshots/acme-ca.pem",
                }
            ),
        )
        yield box, inventory, work
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
        destroy("tacme")


def _pebble_root(work: Path) -> str:
    context = ssl.create_default_context(cafile=str(work / "cert.pem"))
    with urllib.request.urlopen(
        f"https://127.0.0.1:{MANAGEMENT_PORT}/roots/0", context=context
    ) as response:
        return response.read().decode()


def test_certificate_from_acme_is_served_and_renews(acme):
    box, inventory, work = acme
    first, _, stderr = provision(inventory)
    assert first > 0
    assert (
        box.sudo("readlink /etc/ssl/eyeshots/live").stdout.strip()
        == f"/etc/letsencrypt/live/{DOMAIN}"
    )

    # nginx serves a chain that verifies against pebble's root, for the domain.
    context = ssl.create_default_context(cadata=_pebble_root(work))
    with socket.create_connection((box.machine.address, 443), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=DOMAIN) as tls:
            certificate = tls.getpeercert()
    assert ("DNS", DOMAIN) in certificate["subjectAltName"]
    issuer = dict(item[0] for item in certificate["issuer"])
    assert "Pebble" in issuer.get("commonName", "")

    # Renewal through Debian's certbot.timer, with the deploy hook that reloads nginx.
    assert box.sudo("systemctl is-enabled certbot.timer").stdout.strip() == "enabled"
    assert (
        "REQUESTS_CA_BUNDLE=/etc/eyeshots/acme-ca.pem"
        in box.sudo("systemctl cat certbot.service").stdout
    )
    hook = box.sudo("cat /etc/letsencrypt/renewal-hooks/deploy/eyeshots-nginx.sh").stdout
    assert "nginx -t -q && systemctl reload nginx" in hook
    # --server: certbot's --dry-run otherwise swaps in Let's Encrypt staging for any CA.
    directory = f"https://{box.machine.gateway()}:{ACME_PORT}/dir"
    renew = box.sudo(
        "REQUESTS_CA_BUNDLE=/etc/eyeshots/acme-ca.pem certbot renew --dry-run "
        f"--no-random-sleep-on-renew --server {directory}",
        check=False,
    )
    assert renew.returncode == 0, renew.stdout + renew.stderr
    assert "succeeded" in renew.stdout + renew.stderr

    # Nothing to do on the second run: no new certificate is requested.
    second, out, _ = provision(inventory)
    assert second == 0, out
    assert box.sudo(f"ls /etc/letsencrypt/archive/{DOMAIN}/").stdout.count("cert") == 1
