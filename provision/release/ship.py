"""The operator's half of a release: build once, upload what the server lacks, install into
its own virtualenv, and hand over to the on-server agent for the switch."""

from __future__ import annotations

import json
import shlex
import time
from pathlib import Path

import click

from provision.errors import OperatorError
from provision.paths import PROJECT_ROOT
from provision.release import layout
from provision.release.build import Build, Platform, build, new_version
from provision.release.remote import Remote, last_line
from provision.runner import Target

PROBE = (
    "python3 -c 'import platform, sys; "
    'print(f"{sys.version_info[0]}.{sys.version_info[1]}", platform.machine(), '
    "platform.libc_ver()[1])'"
)


def probe(remote: Remote) -> Platform:
    """The server's CPython, CPU and glibc, which choose the wheels to send it."""
    words = remote.run(PROBE, sudo=False, what="finding the server's Python").stdout.split()
    if len(words) != 3 or not words[2]:
        raise OperatorError(
            f"{remote.target.name}: could not read the server's Python/glibc (got {words})"
        )
    return Platform(*(w.decode() for w in words))


def upload(remote: Remote, made: Build) -> None:
    present = remote.run(f"ls {layout.WHEELS} 2>/dev/null || true").stdout.decode().split()
    missing = [w for w in sorted(made.wheelhouse.glob("*.whl")) if w.name not in present]
    size = sum(w.stat().st_size for w in missing) / 2**20
    click.echo(
        f"--> uploading {len(missing)} dependency wheels ({size:.1f} MiB) and the release",
        err=True,
    )
    if missing:
        remote.upload(missing, str(layout.WHEELS))
    remote.upload([made.wheel, made.requirements], str(layout.release_dir(made.version) / "dist"))


def install(remote: Remote, made: Build) -> None:
    """A fresh virtualenv per release; a failed install leaves no half-made release behind."""
    release = layout.release_dir(made.version)
    venv = release / "venv"
    script = " && ".join(
        [
            f"python3 -m venv {venv}",
            f"{venv}/bin/pip install --quiet --disable-pip-version-check --no-index "
            f"--find-links {layout.WHEELS} --requirement {release}/dist/requirements.txt "
            f"{release}/dist/{made.wheel.name}",
            f"echo {shlex.quote(json.dumps({'version': made.version}))} > {release}/release.json",
        ]
    )
    click.echo(f"--> installing {made.version} into {venv}", err=True)
    result = remote.run(script, check=False)
    if result.returncode != 0:
        remote.run(f"rm -rf {release}", check=False)
        tail = (result.stderr or result.stdout).decode(errors="replace").strip().splitlines()
        raise OperatorError(
            f"{remote.target.name}: installing {made.version} failed: {tail[-1] if tail else '?'}"
        )


def deploy(
    target: Target,
    source: Path = PROJECT_ROOT,
    keep: int = 5,
    health_timeout: float = 60.0,
    version: str | None = None,
    unless_live: bool = False,
) -> str:
    """Ship the project at `source` to one host and make it live; returns the version.
    `unless_live`: skip when the host already runs this commit (a clean checkout)."""
    started = time.monotonic()
    if unless_live:
        commit = new_version(source).split("-", 1)[1]
        live = [r["version"] for r in releases(target) if r["current"]]
        if live and not commit.endswith(("-dirty", "nogit")) and live[0].endswith(f"-{commit}"):
            click.echo(f"==> {target.name}: {live[0]} is live already", err=True)
            return str(live[0])
    with Remote(target) as remote:
        platform = probe(remote)
        click.echo(f"--> building a release for {platform.tag}", err=True)
        made = build(platform, source, version)
        upload(remote, made)
        install(remote, made)
        agent = layout.venv_bin(made.version)
        admin = shlex.quote(target.variables["platform_admin_email"])
        code = remote.stream(
            f"{agent} agent activate {made.version} --keep {keep} "
            f"--health-timeout {health_timeout} --admin-email {admin}"
        )
        if code != 0:
            _discard_if_never_live(remote, made.version)
            raise OperatorError(
                f"{target.name}: release {made.version} was not switched to (see above)",
                exit_code=1,
            )
    click.echo(
        f"==> {target.name}: {made.version} live in {time.monotonic() - started:.1f} s", err=True
    )
    return made.version


def _discard_if_never_live(remote: Remote, version: str) -> None:
    """The agent removes a release it refused; this covers one that could not even start it."""
    release = layout.release_dir(version)
    remote.run(
        f"grep -qs '\"{version}\"' {layout.HISTORY} || rm -rf {release}",
        check=False,
    )


def rollback(target: Target, health_timeout: float = 60.0) -> None:
    with Remote(target) as remote:
        agent = layout.CURRENT_AGENT
        code = remote.stream(f"{agent} agent rollback --health-timeout {health_timeout}")
        if code != 0:
            raise OperatorError(f"{target.name}: rollback failed (see above)", exit_code=1)


def releases(target: Target) -> list[dict[str, object]]:
    with Remote(target) as remote:
        agent = layout.CURRENT_AGENT
        found = remote.run(
            f"if [ -x {agent} ]; then {agent} agent releases; else echo '[]'; fi",
            what="listing releases",
        )
        return json.loads(found.stdout)


def admin_password(target: Target) -> str:
    with Remote(target) as remote:
        agent = layout.CURRENT_AGENT
        found = remote.run(f"{agent} agent admin-password", check=False)
        if found.returncode != 0:
            raise OperatorError(
                f"{target.name}: {last_line(found).removeprefix('eyeshots: error: ')}"
            )
        return found.stdout.decode().strip()


def host_status(target: Target) -> dict[str, object]:
    with Remote(target) as remote:
        agent = layout.CURRENT_AGENT
        found = remote.run(
            f"if [ -x {agent} ]; then {agent} agent status; else echo null; fi",
            what="reading the server's status",
        )
        return json.loads(found.stdout) or {}


def logs(target: Target, units: list[str], lines: int, follow: bool) -> int:
    with Remote(target) as remote:
        selection = " ".join(f"-u {shlex.quote(u)}" for u in units)
        tail = f"-n {lines}" + (" -f" if follow else "")
        return remote.stream(f"journalctl --no-pager -o short-iso {selection} {tail}")
