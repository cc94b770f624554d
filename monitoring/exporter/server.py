"""The HTTP side: /metrics (optionally behind TLS and basic auth), a landing page at /.

A plain http.server handler rather than WSGI: building a WSGI environ per request costs more
than several collectors, and the exporter serves exactly two paths.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import logging
import os
import socket
import ssl
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from monitoring.exporter.exposition import generate
from monitoring.exporter.node import NodeCollector
from monitoring.exporter.webconfig import (
    WebConfig,
    WebConfigError,
    files_signature,
    load_web_config,
)

log = logging.getLogger("eyeshots_exporter")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LANDING = """<html><head><title>eyeshots-exporter</title></head><body>
<h1>eyeshots-exporter</h1><p>A node_exporter-compatible exporter.</p>
<p><a href="{path}">Metrics</a></p></body></html>
"""


class _Chain:
    """The node collector and the exporter's own metrics, in one collect()."""

    def __init__(self, collectors: list[Collector]) -> None:
        self.collectors = collectors

    def collect(self) -> Iterable[Metric]:
        for collector in self.collectors:
            yield from collector.collect()


class BasicAuth:
    """Checks Authorization: Basic against bcrypt hashes; a verified pair is remembered.

    bcrypt at cost 10 takes ~70 ms; re-checking it on every 15 s scrape would dominate the
    exporter's CPU, so (like exporter-toolkit) a successful check is cached by digest.
    An unknown user name is checked against a dummy hash of the same cost, so the answer takes
    as long as for a known user with a wrong password and timing does not reveal user names.
    """

    def __init__(self, users: dict[str, str]) -> None:
        import bcrypt  # only exporters with basic auth pay its memory

        self._bcrypt = bcrypt
        # pyca/bcrypt only knows the $2b$ spelling of htpasswd's $2y$ hashes
        self.users = {user: _normalised(hashed) for user, hashed in users.items()}
        cost = max(int(hashed.split(b"$")[2]) for hashed in self.users.values())
        self._dummy = bcrypt.hashpw(os.urandom(16), bcrypt.gensalt(rounds=cost))
        self._verified: set[bytes] = set()
        self._lock = threading.Lock()

    def allows(self, header: str) -> bool:
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        known = user in self.users
        hashed = self.users.get(user, self._dummy)
        digest = hashlib.sha256(b"%s\0%s\0%s" % (user.encode(), password.encode(), hashed)).digest()
        with self._lock:
            if known and any(hmac.compare_digest(digest, seen) for seen in self._verified):
                return True
        if not self._bcrypt.checkpw(password.encode(), hashed) or not known:
            return False
        with self._lock:
            self._verified.add(digest)
        return True


def _normalised(hashed: str) -> bytes:
    return hashed.replace("$2y$", "$2b$", 1).encode()


class ExporterServer(ThreadingHTTPServer):
    # concurrent scrapes must not queue behind a slow one; never keep the process alive
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        node: NodeCollector,
        extras: list[Collector],
        telemetry_path: str,
        web: WebConfig,
        web_config_path: str | None = None,
        max_requests: int = 0,
    ) -> None:
        super().__init__(address, Handler)
        # node_exporter's --web.max-requests: parallel scrapes beyond it get 503
        self.max_requests = max_requests
        self.scrape_slots = threading.BoundedSemaphore(max_requests) if max_requests else None
        self.node = node
        self.extras = extras
        self.registry = _Chain([node, *extras])
        self.telemetry_path = telemetry_path
        self.landing = LANDING.format(path=telemetry_path).encode()
        self.web_config_path = web_config_path
        self._web_lock = threading.Lock()
        self._use(web)

    def filtered(self, query: dict[str, list[str]]) -> Collector:
        """node_exporter's ?collect[]=cpu&collect[]=meminfo or ?exclude[]=... (not both)."""
        include, exclude = query.get("collect[]"), query.get("exclude[]")
        if include and exclude:
            raise ValueError("collect[] and exclude[] cannot be combined")
        if not include and not exclude:
            return self.registry
        node = self.node.only(set(include) if include else None, set(exclude) if exclude else None)
        return _Chain([node, *self.extras])

    def _use(self, web: WebConfig) -> None:
        self.web = web
        self.auth = BasicAuth(web.basic_auth_users) if web.basic_auth_users else None
        self._signature = files_signature(web.files)

    def current_web(self) -> WebConfig:
        """The web-config, re-read when it or a certificate it names changed (like
        exporter-toolkit), so a renewed certificate is served without a restart."""
        if self.web_config_path is None:
            return self.web
        with self._web_lock:
            if files_signature(self.web.files) != self._signature:
                try:
                    self._use(load_web_config(self.web_config_path))
                    log.info("reloaded %s", self.web_config_path)
                except WebConfigError as exc:
                    # keep serving with the last good config; say why once per change
                    self._signature = files_signature(self.web.files)
                    log.error("keeping the previous web config: %s", exc)
            return self.web

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = self.socket.accept()
        context = self.current_web().ssl_context
        if context is None:
            return sock, address
        # the handshake then happens in the request's thread, not in accept(): a client that
        # connects and says nothing cannot block every other scrape
        return context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address


class Handler(BaseHTTPRequestHandler):
    server: ExporterServer
    # keep-alive: Prometheus reuses its connection instead of a TCP (+TLS) setup per scrape
    protocol_version = "HTTP/1.1"
    # an idle or half-open client must not hold a thread forever
    timeout = 60
    # headers and body go out in two writes: with Nagle on, a kept-alive client's delayed ACK
    # stalls the body ~40 ms per scrape
    disable_nagle_algorithm = True
    server_version = "eyeshots-exporter"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """One line per scrape is noise in the journal."""

    def _send(self, status: int, body: bytes, content_type: str, *extra: tuple[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in extra:
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:
        server = self.server
        auth = server.auth  # one consistent view while the web-config may be reloaded
        if auth is not None and not auth.allows(self.headers.get("Authorization", "")):
            self._send(
                401,
                b"Unauthorized\n",
                "text/plain",
                ("WWW-Authenticate", 'Basic realm="eyeshots-exporter"'),
            )
            return
        path, _, query = self.path.partition("?")
        if path == server.telemetry_path:
            try:
                source = server.filtered(parse_qs(query)) if query else server.registry
            except ValueError as exc:
                self._send(400, f"{exc}\n".encode(), "text/plain")
                return
            slots = server.scrape_slots
            if slots is not None and not slots.acquire(blocking=False):
                self._send(
                    503,
                    f"Limit of concurrent requests reached ({server.max_requests}), "
                    "try again later.\n".encode(),
                    "text/plain",
                )
                return
            try:
                body = generate(source)
            finally:
                if slots is not None:
                    slots.release()
            if "gzip" in self.headers.get("Accept-Encoding", ""):
                # Prometheus always asks for gzip; level 1 gets most of the gain for little CPU
                self._send(200, gzip.compress(body, 1), CONTENT_TYPE, ("Content-Encoding", "gzip"))
            else:
                self._send(200, body, CONTENT_TYPE)
        elif path == "/":
            self._send(200, server.landing, "text/html; charset=utf-8")
        else:
            self._send(404, b"Not Found\n", "text/plain")

    do_HEAD = do_GET

    def handle(self) -> None:
        try:
            super().handle()
        except (ssl.SSLError, ConnectionError, TimeoutError):
            # a client that fails the TLS handshake or goes away is its own problem
            self.close_connection = True


def parse_listen_address(address: str) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(
            f"--web.listen-address {address!r}: expected HOST:PORT, e.g. 127.0.0.1:9100"
        )
    return host.strip("[]") or "0.0.0.0", int(port)


class _IPv6ExporterServer(ExporterServer):
    address_family = socket.AF_INET6


def serve(
    address: str,
    node: NodeCollector,
    extras: list[Collector],
    telemetry_path: str,
    web: WebConfig,
    web_config_path: str | None = None,
    max_requests: int = 0,
) -> ExporterServer:
    """Bind and return the server (the caller runs serve_forever)."""
    host, port = parse_listen_address(address)
    cls = _IPv6ExporterServer if ":" in host else ExporterServer
    return cls((host, port), node, extras, telemetry_path, web, web_config_path, max_requests)
