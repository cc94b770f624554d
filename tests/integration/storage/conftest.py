"""An S3 server on loopback for the storage backend: moto's standalone server (in memory)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3
import pytest

from app.storage.s3 import S3Storage

ACCESS_KEY, SECRET_KEY = "eyeshots-test", "eyeshots-test-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MotoServer:
    def __init__(self, workdir: Path) -> None:
        self.port = _free_port()
        self.log = open(workdir / "moto.log", "wb")  # noqa: SIM115
        binary = Path(sys.executable).parent / "moto_server"
        self.proc = subprocess.Popen(
            [str(binary), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.endpoint = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while True:  # poll until it accepts connections
            if self.proc.poll() is not None:
                raise RuntimeError(f"moto_server exited with {self.proc.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("moto_server is not listening after 30 s") from None
                time.sleep(0.05)
        # a plain client for the test's own looks behind the backend's back
        self.client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    def new_bucket(self) -> str:
        name = f"files-{os.urandom(4).hex()}"
        self.client.create_bucket(Bucket=name)
        return name

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()


@pytest.fixture(scope="session")
def moto(tmp_path_factory):
    server = MotoServer(tmp_path_factory.mktemp("moto"))
    yield server
    server.stop()


@pytest.fixture
def bucket(moto) -> str:
    return moto.new_bucket()


@pytest.fixture
def storage(moto, bucket) -> S3Storage:
    return S3Storage(
        bucket=bucket,
        prefix="eyeshots/files",
        endpoint_url=moto.endpoint,
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
    )


class FlakyProxy:
    """A loopback TCP proxy to the S3 server whose first `failures` connections are answered
    `503 SlowDown` (what S3 says when throttling); the rest are relayed, and the answer on the
    first relayed connection is cut after `cut_after` bytes if given (a connection reset)."""

    def __init__(self, upstream_port: int, failures: int = 0, cut_after: int | None = None) -> None:
        self.upstream_port = upstream_port
        self.failures_left = failures
        self.cut_after = cut_after
        self.cuts = 0
        self.failed = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:  # closed
                return
            with self.lock:
                fail = self.failures_left > 0
                self.failures_left -= fail
            target = self._refuse if fail else self._relay
            threading.Thread(target=target, args=(conn,), daemon=True).start()

    def _refuse(self, conn: socket.socket) -> None:
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                data = conn.recv(65536)
                if not data:
                    return
                request += data
            body = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
            conn.sendall(
                b"HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\n"
                b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
            )
            with self.lock:
                self.failed += 1

    def _relay(self, conn: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        with self.lock:
            limit, self.cut_after = self.cut_after, None

        def pump(src: socket.socket, dst: socket.socket, limit: int | None = None) -> None:
            sent = 0
            try:
                while data := src.recv(1 << 16):
                    if limit is not None and sent + len(data) > limit:
                        dst.sendall(data[: limit - sent])
                        with self.lock:
                            self.cuts += 1
                        return
                    dst.sendall(data)
                    sent += len(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        answer = threading.Thread(target=pump, args=(upstream, conn, limit), daemon=True)
        answer.start()
        pump(conn, upstream)
        answer.join(10)
        conn.close()
        upstream.close()

    def close(self) -> None:
        self.listener.close()
