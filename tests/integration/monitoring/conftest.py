"""Start real servers on loopback for the monitoring tests and stop them (by PID) afterwards."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

EXPORTER = [sys.executable, "-m", "monitoring.exporter"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, log: Path, deadline: float = 30.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(
                f"{proc.args[0]} exited {proc.returncode}: {log.read_text()[-2000:]}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} not ready after {deadline}s: {log.read_text()[-2000:]}")


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen]]:
    """spawn(name, argv, ready_url) -> a running process, terminated at teardown."""
    procs: list[subprocess.Popen] = []

    def start(name: str, argv: list[str], ready_url: str | None = None) -> subprocess.Popen:
        log = tmp_path / f"{name}.log"
        proc = subprocess.Popen(
            argv,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
            start_new_session=True,
        )
        procs.append(proc)
        if ready_url:
            wait_http(ready_url, proc, log)
        return proc

    yield start
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def exporter_argv() -> list[str]:
    return list(EXPORTER)


@pytest.fixture
def port() -> Callable[[], int]:
    return free_port


def scrape(url: str, **kwargs: object) -> str:
    with urllib.request.urlopen(url, timeout=10, **kwargs) as response:  # type: ignore[arg-type]
        return response.read().decode()


@pytest.fixture
def get() -> Callable[..., str]:
    return scrape
