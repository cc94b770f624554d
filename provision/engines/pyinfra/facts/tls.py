"""Certificates on the host: which names they cover and for how long."""

from __future__ import annotations

import calendar
import time
from typing import Any

from pyinfra.api import FactBase


class Certificate(FactBase[dict[str, Any] | None]):
    """``{"names": [...], "days_left": int, "ocsp": bool}`` for a PEM certificate, None if absent."""

    def command(self, path: str) -> str:
        return (
            f"if [ -f {path} ]; then "
            f"openssl x509 -noout -ext subjectAltName -in {path} | tr ',' '\\n' | sed -n 's/ *DNS://p'; "
            f"echo '--- end'; openssl x509 -noout -enddate -in {path} | cut -d= -f2; "
            f"echo '--- ocsp'; openssl x509 -noout -ocsp_uri -in {path}; fi"
        )

    def process(self, output: list[str]) -> dict[str, Any] | None:
        if not output:
            return None
        names = output[: output.index("--- end")]
        end = output[output.index("--- end") + 1]
        ocsp = output[output.index("--- ocsp") + 1 :]
        expires = calendar.timegm(time.strptime(end.replace("  ", " "), "%b %d %H:%M:%S %Y %Z"))
        return {
            "names": [n.strip() for n in names if n.strip()],
            "days_left": int((expires - time.time()) // 86400),
            "ocsp": any(line.strip() for line in ocsp),
        }


class CertbotLineage(FactBase[dict[str, Any] | None]):
    """certbot's renewal configuration for a certificate name: ACME server and domains."""

    def command(self, cert_name: str) -> str:
        conf = f"/etc/letsencrypt/renewal/{cert_name}.conf"
        live = f"/etc/letsencrypt/live/{cert_name}/cert.pem"
        return (
            f"if [ -f {conf} ] && [ -f {live} ]; then sed -n 's/^server *= *//p' {conf}; "
            f"openssl x509 -noout -ext subjectAltName -in {live} | tr ',' '\\n' | sed -n 's/ *DNS://p'; fi"
        )

    def process(self, output: list[str]) -> dict[str, Any] | None:
        if not output:
            return None
        return {
            "server": output[0].strip(),
            "names": sorted(n.strip() for n in output[1:] if n.strip()),
        }
