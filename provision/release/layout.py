"""Where releases live on a server. The same paths are role variables (roles/app/defaults) for
the unit templates; the deploy and the on-server agent import them from here."""

from __future__ import annotations

from pathlib import PurePosixPath

ROOT = PurePosixPath("/opt/eyeshots")
RELEASES = ROOT / "releases"
CURRENT = ROOT / "current"
HISTORY = ROOT / "history.jsonl"
# dependency wheels shared by every release: only new ones are uploaded
WHEELS = ROOT / "wheels"
NGINX_UPSTREAMS = PurePosixPath("/etc/nginx/eyeshots/upstreams.conf")
LOCK = PurePosixPath("/run/eyeshots-deploy.lock")
# the live release's agent: what rollback, releases and status run on the server
CURRENT_AGENT = CURRENT / "venv" / "bin" / "eyeshots"


def release_dir(version: str) -> PurePosixPath:
    return RELEASES / version


def venv_bin(version: str, program: str = "eyeshots") -> PurePosixPath:
    return release_dir(version) / "venv" / "bin" / program
