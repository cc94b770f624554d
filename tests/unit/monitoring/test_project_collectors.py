"""tlscert and systemd collectors."""

from __future__ import annotations

import datetime
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from monitoring.exporter.collectors.systemd import SystemdCollector
from monitoring.exporter.collectors.tlscert import TLSCertCollector

NOT_AFTER = datetime.datetime(2031, 5, 4, 3, 2, 1, tzinfo=datetime.UTC)


def write_cert(path, names):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOT_AFTER - datetime.timedelta(days=90))
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), False)
        .sign(key, hashes.SHA256())
    )
    path.parent.mkdir(parents=True)
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def test_tlscert_one_series_per_domain_and_errors_per_file(settings, tmp_path, samples):
    live = tmp_path / "letsencrypt" / "live"
    write_cert(live / "eyeshots.example" / "cert.pem", ["eyeshots.example", "www.eyeshots.example"])
    (live / "broken").mkdir()
    (live / "broken" / "cert.pem").write_text("-----BEGIN CERTIFICATE-----\nnope\n")
    settings.tls_cert_files = [str(live / "*" / "cert.pem")]
    got = samples(TLSCertCollector(settings).collect())
    good = str(live / "eyeshots.example" / "cert.pem")
    for domain in ("eyeshots.example", "www.eyeshots.example"):
        key = ("eyeshots_tls_certificate_not_after_timestamp_seconds",
               (("domain", domain), ("file", good)))  # fmt: skip
        assert got[key] == NOT_AFTER.timestamp()
    assert got[("eyeshots_tls_certificate_read_error", (("file", good),))] == 0
    bad = str(live / "broken" / "cert.pem")
    assert got[("eyeshots_tls_certificate_read_error", (("file", bad),))] == 1


SHOW = """Id=eyeshots-app.service
Type=notify
ActiveState=active
NRestarts=0

Id=eyeshots-files.service
Type=simple
ActiveState=failed
NRestarts=4

Id=certbot.timer
LoadState=not-found
ActiveState=inactive
"""


@pytest.fixture
def systemctl(tmp_path):
    # systemd is not PID 1 in the test environment (and cannot be in CI's container), so
    # `systemctl show` is replaced by a script printing what systemd prints for it
    script = tmp_path / "systemctl"
    script.write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path}/args\ncat <<'EOF'\n{SHOW}EOF\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_systemd_states_in_node_exporter_names(settings, systemctl, tmp_path, samples):
    settings.systemctl = str(systemctl)
    settings.systemd_units = ["eyeshots-app.service", "eyeshots-files.service"]
    got = samples(SystemdCollector(settings).collect())
    assert (tmp_path / "args").read_text().split()[-2:] == settings.systemd_units

    def state(name, value, typ):
        return got[("node_systemd_unit_state", (("name", name), ("state", value), ("type", typ)))]

    assert state("eyeshots-app.service", "active", "notify") == 1
    assert state("eyeshots-app.service", "failed", "notify") == 0
    assert state("eyeshots-files.service", "failed", "simple") == 1
    assert got[("node_systemd_service_restart_total", (("name", "eyeshots-files.service"),))] == 4
    # a unit the host does not have is left out, not reported as down
    assert not any(("name", "certbot.timer") in labels for _, labels in got)


def test_systemd_without_systemd_fails_the_collector_only(settings, tmp_path):
    settings.systemctl = str(tmp_path / "no-such-systemctl")
    settings.systemd_units = ["eyeshots-app.service"]
    with pytest.raises(OSError):
        list(SystemdCollector(settings).collect())
