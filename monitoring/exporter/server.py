"""The HTTP side: /metrics (optionally behind TLS and basic auth), a landing page at /."""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry

from monitoring.exporter.exposition import generate
from monitoring.exporter.webconfig import WebConfig

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict, StartResponse], Iterable[bytes]]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LANDING = """<html><head><title>eyeshots-exporter</title></head><body>
<h1>eyeshots-exporter</h1><p>A node_exporter-compatible exporter.</p>
<p><a href="{path}">Metrics</a></p></body></html>
"""


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    # concurrent scrapes must not queue behind a slow one; never keep the process alive
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    # an idle or half-open client must not hold a worker thread forever
    timeout = 30

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """One line per scrape is noise in the journal."""


class BasicAuth:
    """Checks Authorization: Basic against bcrypt hashes; a verified pair is remembered.

    bcrypt at cost 10 takes ~70 ms; re-checking it on every 15 s scrape would dominate the
    exporter's CPU, so (like exporter-toolkit) a successful check is cached by digest.
    """

    def __init__(self, app: WSGIApp, users: dict[str, str]) -> None:
        self.app = app
        self.users = users
        self._verified: set[bytes] = set()
        self._lock = threading.Lock()

    def _ok(self, header: str) -> bool:
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        hashed = self.users.get(user)
        if hashed is None:
            return False
        digest = hashlib.sha256(f"{user}\0{password}\0{hashed}".encode()).digest()
        with self._lock:
            if any(hmac.compare_digest(digest, seen) for seen in self._verified):
                return True
        import bcrypt  # only exporters with basic auth pay its memory

        # pyca/bcrypt only knows the $2b$ spelling of htpasswd's $2y$ hashes
        normalised = hashed.replace("$2y$", "$2b$", 1).encode()
        if not bcrypt.checkpw(password.encode(), normalised):
            return False
        with self._lock:
            self._verified.add(digest)
        return True

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        if self._ok(environ.get("HTTP_AUTHORIZATION", "")):
            return self.app(environ, start_response)
        start_response(
            "401 Unauthorized",
            [
                ("WWW-Authenticate", 'Basic realm="eyeshots-exporter"'),
                ("Content-Type", "text/plain"),
            ],
        )
        return [b"Unauthorized\n"]


def metrics_app(registry: CollectorRegistry) -> WSGIApp:
    def app(environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        body = generate(registry)
        headers = [("Content-Type", CONTENT_TYPE)]
        if "gzip" in environ.get("HTTP_ACCEPT_ENCODING", ""):
            # Prometheus always asks for gzip; level 1 is most of the gain for a fraction of the CPU
            body = gzip.compress(body, compresslevel=1)
            headers.append(("Content-Encoding", "gzip"))
        headers.append(("Content-Length", str(len(body))))
        start_response("200 OK", headers)
        return [body]

    return app


def build_app(registry: CollectorRegistry, telemetry_path: str, web: WebConfig) -> WSGIApp:
    metrics = metrics_app(registry)
    landing = LANDING.format(path=telemetry_path).encode()

    def app(environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        if path == telemetry_path:
            return metrics(environ, start_response)
        if path == "/":
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
            return [landing]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"Not Found\n"]

    return BasicAuth(app, web.basic_auth_users) if web.basic_auth_users else app


def parse_listen_address(address: str) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(
            f"--web.listen-address {address!r}: expected HOST:PORT, e.g. 127.0.0.1:9100"
        )
    return host.strip("[]") or "0.0.0.0", int(port)


def serve(address: str, app: WSGIApp, web: WebConfig) -> WSGIServer:
    """Bind and return the server (the caller runs serve_forever)."""
    host, port = parse_listen_address(address)
    server = make_server(host, port, app, _ThreadingServer, handler_class=_QuietHandler)
    if web.ssl_context is not None:
        # the handshake then happens in the request's thread, not in accept(): a client that
        # connects and says nothing cannot block every other scrape
        server.socket = web.ssl_context.wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )
    return server
