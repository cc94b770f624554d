"""roles/nginx and roles/tls, from the host itself (loopback): valid config, TLS 1.2/1.3 with
AEAD suites only, the security headers, HTTPS redirects, unknown names refused. The same
seen from outside the host stays in tests/hosts/test_hardening.py."""

from __future__ import annotations

import pytest

from tests.verify.tls_probe import probe

LOOPBACK = "127.0.0.1"


@pytest.fixture(autouse=True)
def nginx_on(v):
    if not v["nginx_enabled"]:
        pytest.skip("nginx_enabled is false for this host")


def curl(host, url: str, *options: str):
    """(exit code, headers lower-cased, body) of one request to nginx on loopback."""
    domain = url.split("/")[2]
    port = 443 if url.startswith("https") else 80
    result = host.run(
        "curl -sk --max-time 10 -D /dev/stderr --resolve %s:%s:%s %s " + " ".join(options),
        domain,
        str(port),
        LOOPBACK,
        url,
    )
    return result.rc, result.stderr.lower(), result.stdout


def test_config_valid_and_running(host):
    assert host.run("nginx -t").rc == 0
    assert host.service("nginx").is_running and host.service("nginx").is_enabled


def test_tls_versions_and_suites(host, v):
    found = probe(host, LOOPBACK, v["eyeshots_domain"])
    # nginx spells TLSv1.2 what Python's ssl.TLSVersion calls TLSv1_2
    wanted = {name.replace(".", "_") for name in v["nginx_ssl_protocols"].split()}
    accepted = {version for version in ("TLSv1", "TLSv1_1", "TLSv1_2", "TLSv1_3") if found[version]}
    assert accepted == wanted, found
    assert found["cbc"] is None, "a CBC suite was accepted"
    assert found["unknown_name"] is None, "a handshake for an unknown name was accepted"


def test_certificate_covers_the_domains(host, v):
    cert = f"{v['tls_live_dir']}/fullchain.pem"
    names = host.check_output("openssl x509 -noout -ext subjectAltName -in %s", cert)
    for domain in [v["eyeshots_domain"], *v["tls_extra_domains"]]:
        assert f"DNS:{domain}" in names


def test_security_headers(host, v):
    rc, headers, _ = curl(host, f"https://{v['eyeshots_domain']}/")
    assert rc == 0 and headers.startswith(("http/1.1 200", "http/2 200")), headers
    assert f"strict-transport-security: max-age={v['nginx_hsts_max_age']}" in headers
    assert "x-content-type-options: nosniff" in headers
    assert f"referrer-policy: {v['nginx_referrer_policy']}" in headers
    assert f"content-security-policy: {v['nginx_content_security_policy']}".lower() in headers
    assert "\nserver: nginx\r\n" in headers, "no version in Server"


def test_http_redirects_to_https_and_serves_acme(host, v):
    domain = v["eyeshots_domain"]
    rc, headers, _ = curl(host, f"http://{domain}/projects?x=1")
    assert headers.startswith("http/1.1 301"), headers
    assert f"location: https://{domain}/projects?x=1" in headers
    webroot = f"{v['nginx_acme_webroot']}/.well-known/acme-challenge"
    host.check_output("mkdir -p %s && echo verify-token > %s/verify-probe", webroot, webroot)
    try:
        _, headers, body = curl(host, f"http://{domain}/.well-known/acme-challenge/verify-probe")
        assert headers.startswith("http/1.1 200") and body == "verify-token\n"
    finally:
        host.run("rm -f %s/verify-probe", webroot)


def test_unknown_names_get_no_answer(host):
    # nginx closes the connection without a response (444): curl's "empty reply", exit 52
    rc, headers, _ = curl(host, "http://unknown.invalid/")
    assert rc == 52 and headers == "", headers
