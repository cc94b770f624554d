"""Run uvicorn with one or more worker processes, each answering without Nagle stalls."""

from __future__ import annotations

import socket
import sys

import uvicorn
from uvicorn.supervisors import Multiprocess

STARTUP_FAILURE = 3  # uvicorn's own exit code when the app did not start


def listening_socket(config: uvicorn.Config) -> socket.socket:
    """uvicorn's shared listening socket for its workers, with TCP_NODELAY set on it.

    uvicorn binds it with protocol 0, and asyncio only sets TCP_NODELAY on accepted sockets whose
    protocol reads IPPROTO_TCP: every worker's connections kept Nagle on. A response goes out as
    two writes (headers, then body), the second waited for the client's delayed ACK, and every
    request on a reused connection took ~40 ms more. Linux copies TCP_NODELAY from the listening
    socket to each accepted one.
    """
    sock = config.bind_socket()
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def run(config: uvicorn.Config) -> None:
    """What `uvicorn.run` does for an import string, with the listening socket above."""
    if config.workers > 1:
        Multiprocess(config, sockets=[listening_socket(config)]).run()
        return
    server = uvicorn.Server(config)
    server.run()  # one process: asyncio creates the socket and sets TCP_NODELAY itself
    if not server.started:
        sys.exit(STARTUP_FAILURE)
