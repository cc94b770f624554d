"""What the agent reports for `eyeshots status`, from the files the server really has: the
backup job's textfile metrics (read by monitoring/textfile.py, the module that writes them) and
the certificate (its expiry computed as the exporter does)."""

from __future__ import annotations

import datetime
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from monitoring.backup_metrics import BackupRun, write_backup_metrics
from provision.server.hoststatus import certificate_days, last_backup


def test_last_backup_is_the_newest_success_of_any_repository(tmp_path):
    assert last_backup(str(tmp_path)) is None
    now = time.time()
    write_backup_metrics(BackupRun("local", now - 7200, 60, True), str(tmp_path))
    write_backup_metrics(BackupRun("s3:offsite", now - 3600 * 30, 60, True), str(tmp_path))
    # a failed run keeps the last success's time
    write_backup_metrics(BackupRun("local", now - 60, 5, False), str(tmp_path))
    assert last_backup(str(tmp_path)) == {"repository": "local", "age_hours": 2.0}


def test_certificate_days_left(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "status.example")])
    start = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(start).not_valid_after(start + datetime.timedelta(days=90))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    path = tmp_path / "fullchain.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    assert 89.9 < certificate_days(str(path)) <= 90.0
    assert certificate_days(str(tmp_path / "missing.pem")) is None
    path.write_text("not a certificate")
    assert certificate_days(str(path)) is None
