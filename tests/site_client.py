"""HTTPS requests to a sandbox site by its domain name (SNI + Host) at the machine's address,
without DNS: what a browser does once the name resolves."""

from __future__ import annotations

import http.client
import socket
import ssl

_INSECURE = ssl.create_default_context()
_INSECURE.check_hostname = False
# the sandbox's certificate is self-signed (or from the test's own ACME CA)
_INSECURE.verify_mode = ssl.CERT_NONE


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, address: str, domain: str, timeout: float = 10) -> None:
        super().__init__(domain, 443, timeout=timeout, context=_INSECURE)
        self.address = address

    def connect(self) -> None:
        raw = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = _INSECURE.wrap_socket(raw, server_hostname=self.host)


def get(address: str, domain: str, path: str, timeout: float = 10) -> tuple[int, bytes]:
    """One request on a fresh connection; returns (status, body)."""
    connection = PinnedHTTPSConnection(address, domain, timeout)
    try:
        connection.request("GET", path, headers={"Connection": "close"})
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def request(
    address: str,
    domain: str,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request on a fresh connection; returns (status, headers, body)."""
    connection = PinnedHTTPSConnection(address, domain)
    try:
        connection.request(
            method, path, body=body, headers={"Connection": "close", **(headers or {})}
        )
        answer = connection.getresponse()
        return answer.status, answer.headers, answer.read()
    finally:
        connection.close()


def open_stream(
    address: str, domain: str, path: str, headers: dict[str, str], timeout: float = 60
) -> http.client.HTTPResponse:
    """A long-lived GET (server-sent events); read it line by line, close it when done."""
    connection = PinnedHTTPSConnection(address, domain, timeout)
    connection.request("GET", path, headers={"Accept": "text/event-stream", **headers})
    return connection.getresponse()
