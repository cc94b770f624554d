"""A TLS client the suite runs ON the host (its python3), against nginx on loopback: which
protocol versions and suites nginx accepts, whatever client tools the host has."""

from __future__ import annotations

import json

# Runs on the host; prints one JSON object. argv: address, server name.
PROBE = r"""
import json, socket, ssl, sys
address, name = sys.argv[1], sys.argv[2]

def attempt(minimum=None, maximum=None, ciphers=None, server_name=name):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    # The client is willing to speak anything (security level 0): a refusal is the server's.
    context.set_ciphers(ciphers or "DEFAULT:@SECLEVEL=0")
    if minimum:
        context.minimum_version = getattr(ssl.TLSVersion, minimum)
    if maximum:
        context.maximum_version = getattr(ssl.TLSVersion, maximum)
    try:
        with context.wrap_socket(socket.create_connection((address, 443), timeout=10),
                                 server_hostname=server_name) as tls:
            return tls.version()
    except (ssl.SSLError, ConnectionError):
        return None

result = {v: attempt(v, v) for v in ("TLSv1", "TLSv1_1", "TLSv1_2", "TLSv1_3")}
result["cbc"] = attempt(None, "TLSv1_2", "ECDHE-RSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA256")
result["unknown_name"] = attempt(server_name="unknown.invalid")
print(json.dumps(result))
"""


def probe(host, address: str, server_name: str) -> dict[str, str | None]:
    """Protocol versions negotiated (None where refused), on the host itself."""
    output = host.check_output("python3 -c %s %s %s", PROBE, address, server_name)
    return json.loads(output)
