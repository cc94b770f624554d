"""An S3 server on loopback for the storage backend: moto's standalone server (in memory)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
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
