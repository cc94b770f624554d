"""HTTPS requests to a sandbox site by its domain name (SNI + Host) at the machine's address,
without DNS: what a browser does once the name resolves."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
from urllib.parse import quote

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


def login(address: str, domain: str, email: str, password: str) -> dict[str, str]:
    """A JSON API session: the headers every later request sends (cookie, CSRF, origin)."""
    body = json.dumps({"email": email, "password": password}).encode()
    status, headers, answer = request(
        address, domain, "POST", "/api/auth/login", body, {"Content-Type": "application/json"}
    )
    assert status == 200, answer
    return {
        "Cookie": headers["Set-Cookie"].split(";", 1)[0],
        "X-CSRF-Token": json.loads(answer)["csrf_token"],
        "Origin": f"https://{domain}",
        "Content-Type": "application/json",
    }


def api(address: str, domain: str, session: dict[str, str], method: str, path: str,
        data: dict | None = None) -> dict:  # fmt: skip
    body = None if data is None else json.dumps(data).encode()
    status, _, answer = request(address, domain, method, f"/api{path}", body, session)
    assert status in (200, 201), (status, answer)
    return json.loads(answer)


# a 2x2 PNG: the file service sniffs the first bytes, not the name
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000020000000208020000"
    "00fdd49a730000001649444154789c63f8cfc0f09f8181e13f030303"
    "0300135a03fd9ee4aef60000000049454e44ae426082"
)


def upload_image(
    address: str, domain: str, session: dict[str, str], name: str
) -> tuple[dict, dict]:
    """A project with one image file, a version uploaded through the file service; returns
    (the file service's answer, the version's signed links)."""
    org = api(address, domain, session, "POST", "/orgs", {"name": f"Client of {name}"})
    project = api(address, domain, session, "POST", "/projects",
                  {"name": name, "client_org_id": org["id"]})  # fmt: skip
    file = api(address, domain, session, "POST", f"/projects/{project['id']}/files",
               {"title": name, "kind": "image"})  # fmt: skip
    link = api(address, domain, session, "POST", f"/files/{file['id']}/upload-link", {})
    status, _, body = request(
        address, domain, "PUT", link["upload_url"], PNG,
        {"Authorization": f"Bearer {link['token']}", "X-Filename": f"{quote(name)}.png"},
    )  # fmt: skip
    assert status == 201, body
    version = json.loads(body)
    links = api(address, domain, session, "GET", f"/versions/{version['version_id']}/links")
    return version, links
