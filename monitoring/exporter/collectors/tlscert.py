"""tlscert (project metric): when each served domain's certificate expires.

Reads the certificate files given with --collector.tlscert.file (globs, e.g. certbot's
/etc/letsencrypt/live/*/cert.pem) rather than connecting to nginx: no network access from the
exporter, and it works while nginx is down.
"""

from __future__ import annotations

import glob
from collections.abc import Iterable
from typing import TYPE_CHECKING

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from monitoring.exporter.base import Collector

if TYPE_CHECKING:
    # imported when the collector first runs: cryptography adds ~10 MB RSS to every exporter
    from cryptography import x509


def certificate_domains(cert: x509.Certificate) -> list[str]:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        names = san.value.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        names = []
    if not names:
        names = [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    return sorted(set(names))


def read_certificate(path: str) -> x509.Certificate:
    """A PEM certificate file; OSError or ValueError when it cannot be read or parsed."""
    from cryptography import x509

    with open(path, "rb") as handle:
        return x509.load_pem_x509_certificate(handle.read())


def not_after(cert: x509.Certificate) -> float:
    """Unixtime after which the certificate is no longer valid: the one expiry computation of
    the server side (the exporter's metric and `eyeshots status` both use it)."""
    return cert.not_valid_after_utc.timestamp()


class TLSCertCollector(Collector):
    name = "tlscert"
    default_enabled = False
    description = "Expiry time of TLS certificates per domain (--collector.tlscert.file)."

    def collect(self) -> Iterable[Metric]:
        expiries = GaugeMetricFamily(
            "eyeshots_tls_certificate_not_after_timestamp_seconds",
            "Unixtime after which the certificate for this domain is no longer valid.",
            labels=["domain", "file"],
        )
        errors = GaugeMetricFamily(
            "eyeshots_tls_certificate_read_error",
            "1 if the certificate file could not be read or parsed, 0 otherwise.",
            labels=["file"],
        )
        files: set[str] = set()
        for pattern in self.settings.tls_cert_files:
            files.update(glob.glob(pattern))
        for path in sorted(files):
            try:
                cert = read_certificate(path)
            except (OSError, ValueError):
                errors.add_metric([path], 1.0)
                continue
            errors.add_metric([path], 0.0)
            expiry = not_after(cert)
            for domain in certificate_domains(cert):
                expiries.add_metric([domain, path], expiry)
        yield expiries
        yield errors
