"""With several workers uvicorn binds the shared socket itself; every connection a worker accepts
must have Nagle off, or each response's second write waits for the client's delayed ACK."""

from __future__ import annotations

import socket

import uvicorn

from app.web.serving import listening_socket


def test_accepted_connections_have_tcp_nodelay():
    config = uvicorn.Config(
        "app.main:create_app", factory=True, host="127.0.0.1", port=0, workers=2
    )
    server = listening_socket(config)
    try:
        server.listen()
        client = socket.create_connection(server.getsockname()[:2])
        accepted, _ = server.accept()
        with client, accepted:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        server.close()
