"""A throw-away PostgreSQL server: Debian's binaries, a temp data dir, 127.0.0.1 and a random port."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg


def _bindir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    if not candidates:
        raise RuntimeError(
            "PostgreSQL server binaries not found; install Debian's `postgresql` package "
            "(listed in tests/packages.d/app.txt)"
        )
    return Path(candidates[-1]).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(argv: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yields a superuser URL `postgresql+psycopg://postgres@127.0.0.1:PORT/postgres`."""
    bindir = _bindir()
    root = Path(tempfile.mkdtemp(prefix="eyeshots-pg-"))
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    port = _free_port()
    subprocess.run(
        _as_postgres(
            [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync"]
        ),
        check=True,
        capture_output=True,
    )
    log = open(root / "server.log", "wb")  # noqa: SIM115
    server = subprocess.Popen(
        _as_postgres(
            [
                str(bindir / "postgres"),
                "-D", str(data),
                "-h", "127.0.0.1",
                "-p", str(port),
                "-k", str(sockets),
                # durability is irrelevant for a test server and costs seconds
                "-c", "fsync=off",
                "-c", "synchronous_commit=off",
                "-c", "full_page_writes=off",
            ]
        ),
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres").close()
                break
            except psycopg.OperationalError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "PostgreSQL did not start: " + (root / "server.log").read_text()
                    ) from None
                time.sleep(0.05)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def create_database(admin_url: str, name: str) -> str:
    dsn = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name
