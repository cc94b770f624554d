"""Pointing nginx's upstreams at a release's port slot: written atomically, checked by
`nginx -t` (the old file comes back when refused), a graceful reload, then waiting until the
old workers have finished their requests."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from provision.errors import OperatorError
from provision.server.layout import Layout
from provision.shell import last_line, run


def write_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    scratch = path.with_name(f".{path.name}.new")
    scratch.write_text(text)
    scratch.chmod(mode)
    os.replace(scratch, path)


def _workers() -> set[int]:
    out = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    return {int(line.split()[0]) for line in out.splitlines() if "nginx: worker process" in line}


def switch(layout: Layout, slot: int, version: str) -> None:
    path = Path(layout.nginx_upstreams)
    path.parent.mkdir(parents=True, exist_ok=True)
    old = path.read_text() if path.exists() else None
    blocks = [f"# Managed by `eyeshots deploy`: release {version}, slot {slot}. Do not edit.\n"]
    for service in layout.services:
        # every upstream name exists, so the site config stays valid whatever is installed
        port = service.ports[slot]
        blocks.append(f"upstream {service.upstream} {{\n    server 127.0.0.1:{port};\n")
        blocks.append("    keepalive 16;\n}\n")
    write_atomic(path, "".join(blocks))
    check = subprocess.run(["nginx", "-t", "-q"], capture_output=True, text=True)
    if check.returncode != 0:
        if old is None:
            path.unlink()
        else:
            write_atomic(path, old)
        detail = last_line(check.stderr, "", check.returncode)
        raise OperatorError(f"nginx refused the new upstreams: {detail}", exit_code=1)
    draining = _workers()
    run(["systemctl", "reload", "nginx"], what="reloading nginx", exit_code=1)
    # Old workers finish their requests, then exit (worker_shutdown_timeout bounds long streams).
    deadline = time.monotonic() + 120
    while draining & _workers() and time.monotonic() < deadline:
        time.sleep(0.1)
