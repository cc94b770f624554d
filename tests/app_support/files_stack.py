"""The file service as deployed, on loopback: `eyeshots files serve` in its own process behind a
real nginx running the nginx role's files-locations template. Used by tests/integration/files
and bench/files_vs_nginx.py."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from app_support.client import FILE_TOKEN_KEYS
from provision.hostvars import defaults
from provision.templates import render

PROJECT_ROOT = Path(__file__).resolve().parents[2]
KEYS = FILE_TOKEN_KEYS
PREFIX = "/transfer/"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, what: str, timeout: float = 20.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass
class FileService:
    url: str
    process: subprocess.Popen
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def file_service(env: dict[str, str], log: Path) -> Iterator[FileService]:
    port = free_port()
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "provision", "files", "serve", "--port", str(port)],
            cwd=PROJECT_ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        # its imports alone take half a minute when seven test runs share two cores
        wait_until(lambda: process.poll() is not None or _answers(url + "/healthz"),
                   "the file service", timeout=90)  # fmt: skip
        if process.poll() is not None:
            raise RuntimeError(f"file service exited: {log.read_text()[-2000:]}")
        yield FileService(url, process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def role_defaults() -> dict[str, object]:
    return defaults().variables


def access_log_format() -> str:
    """The role's own log_format (it leaves query strings, hence tokens, out)."""
    conf = render("nginx", "nginx.conf.j2", {**role_defaults(), "trusted_admin_sources": [],
                                             "tls_ocsp_stapling": False})  # fmt: skip
    match = re.search(r"^\s*(log_format main .*?;)\s*$", conf, re.S | re.M)
    assert match, "nginx.conf.j2 has no log_format main"
    return match.group(1)


@dataclass
class Nginx:
    url: str
    prefix: Path

    @property
    def access_log(self) -> Path:
        return self.prefix / "access.log"


@contextmanager
def nginx(upstream: str, files_root: Path, work: Path, static_root: Path | None = None,
          app_upstream: str | None = None, port: int | None = None,
          **overrides: object) -> Iterator[Nginx]:  # fmt: skip
    """nginx on 127.0.0.1 with the role's file-service locations in front of `upstream`
    (host:port); `static_root` adds a plain static location (the benchmark's peer),
    `app_upstream` the app at / (one origin for the browser)."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        raise RuntimeError("nginx is missing: apt-get install nginx (tests/packages.d/files.txt)")
    work.mkdir(parents=True, exist_ok=True)
    variables = {**role_defaults(), "nginx_files_upstream": "eyeshots_files_test",
                 "nginx_files_internal_root": str(files_root), **overrides}  # fmt: skip
    locations = render("nginx", "files-locations.conf.j2", variables)
    static = f"        location /static/ {{ alias {static_root}/; }}\n" if static_root else ""
    app_location = app_upstream_block = ""
    if app_upstream:
        app_upstream_block = f"upstream eyeshots_app_test {{ server {app_upstream}; }}"
        headers = render("nginx", "proxy-headers.conf.j2", {})
        app_location = f"        location / {{\n            proxy_pass http://eyeshots_app_test;\n{headers}        }}\n"
    port = port or free_port()
    temp = {name: work / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir(exist_ok=True)
    conf = work / "nginx.conf"
    conf.write_text(f"""
daemon off;
user root;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    {access_log_format()}
    access_log {work}/access.log main;
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    {app_upstream_block}
    upstream eyeshots_files_test {{
        server {upstream};
        keepalive 8;
    }}
    server {{
        listen 127.0.0.1:{port};
{locations}
{static}{app_location}    }}
}}
""")
    check = subprocess.run([binary, "-t", "-c", str(conf), "-p", str(work)],
                           capture_output=True, text=True)  # fmt: skip
    if check.returncode != 0:
        raise RuntimeError(f"nginx -t failed: {check.stderr}")
    process = subprocess.Popen([binary, "-c", str(conf), "-p", str(work)],
                               stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def listening() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited: {process.stderr.read().decode()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            return False

    try:
        wait_until(listening, "nginx")
        yield Nginx(url, work)
    finally:
        process.terminate()
        process.wait(timeout=15)
