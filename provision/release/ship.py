"""The operator's half of a release: build once, upload what the server lacks, install into
its own virtualenv (hashes checked against the lock), and hand over to the server's agent
(`eyeshots-server agent`, provision/server) for the switch."""

from __future__ import annotations

import json
import re
import shlex
import time
from pathlib import Path, PurePosixPath

import click

from provision.errors import OperatorError
from provision.paths import PROJECT_ROOT
from provision.release.build import Build, WheelTarget, build, new_version
from provision.release.remote import Remote
from provision.runner import Target
from provision.server.layout import Layout
from provision.shell import last_line
from provision.templating import render

PROBE = (
    "python3 -c 'import platform, sys; "
    'print(f"{sys.version_info[0]}.{sys.version_info[1]}", platform.machine(), '
    "platform.libc_ver()[1])'"
)


def server_layout(target: Target) -> Layout:
    """The host's layout, rendered from its variables by the same template roles/platform
    installs on it (platform_layout_file)."""
    return Layout.from_json(render("platform", "layout.json.j2", target.variables))


def probe(remote: Remote) -> WheelTarget:
    """The server's CPython, CPU and glibc, which choose the wheels to send it."""
    words = remote.run(PROBE, sudo=False, what="finding the server's Python").stdout.split()
    if len(words) != 3 or not words[2]:
        raise OperatorError(
            f"{remote.target.name}: could not read the server's Python/glibc (got {words})"
        )
    return WheelTarget(*(w.decode() for w in words))


def upload(remote: Remote, made: Build) -> None:
    layout = server_layout(remote.target)
    present = remote.run(f"ls {layout.wheels} 2>/dev/null || true").stdout.decode().split()
    missing = [w for w in sorted(made.wheelhouse.glob("*.whl")) if w.name not in present]
    size = sum(w.stat().st_size for w in missing) / 2**20
    click.echo(
        f"--> uploading {len(missing)} dependency wheels ({size:.1f} MiB) and the release",
        err=True,
    )
    if missing:
        remote.upload(missing, str(layout.wheels))
    remote.upload([made.wheel, made.requirements], str(layout.release_dir(made.version) / "dist"))


def install_script(release: PurePosixPath, wheels: PurePosixPath, version: str) -> str:
    """A fresh virtualenv for a release, every wheel checked against the hashes the release's
    requirements carry (uv.lock's, and the project wheel's own): pip refuses any that differs."""
    venv = release / "venv"
    return " && ".join(
        [
            f"python3 -m venv {venv}",
            f"cd {release}/dist",
            f"{venv}/bin/pip install --quiet --disable-pip-version-check --no-index "
            f"--require-hashes --find-links {wheels} --requirement requirements.txt",
            f"echo {shlex.quote(json.dumps({'version': version}))} > {release}/release.json",
        ]
    )


def install_failure(stderr: str, stdout: str, returncode: int) -> str:
    """Why pip refused: the wheels whose bytes differ from the lock's hashes, else its last line."""
    if "DO NOT MATCH THE HASHES" in stderr:
        differ = re.findall(r"^\s+(\S+==\S+) from ", stderr, re.M)
        return (
            f"{', '.join(differ) or 'a wheel'} in the server's wheelhouse differs from uv.lock's "
            "hash; remove it from the wheelhouse and deploy again"
        )
    return last_line(stderr, stdout, returncode)


def install(remote: Remote, made: Build) -> None:
    """A failed install leaves no half-made release behind."""
    layout = server_layout(remote.target)
    release = layout.release_dir(made.version)
    click.echo(f"--> installing {made.version} into {release}/venv", err=True)
    result = remote.run(install_script(release, layout.wheels, made.version), check=False)
    if result.returncode != 0:
        remote.run(f"rm -rf {release}", check=False)
        why = install_failure(
            result.stderr.decode(errors="replace"),
            result.stdout.decode(errors="replace"),
            result.returncode,
        )
        raise OperatorError(f"{remote.target.name}: installing {made.version} failed: {why}")


def go_live(
    target: Target,
    source: Path = PROJECT_ROOT,
    keep: int = 5,
    health_timeout: float = 60.0,
    version: str | None = None,
    unless_live: bool = False,
) -> str:
    """Build the project at `source`, ship it to one host and switch the host to it; returns
    the version. `unless_live`: skip when the host already runs this commit (a clean checkout)."""
    started = time.monotonic()
    if unless_live:
        commit = new_version(source).split("-", 1)[1]
        live = [r["version"] for r in releases(target) if r["current"]]
        if live and not commit.endswith(("-dirty", "nogit")) and live[0].endswith(f"-{commit}"):
            click.echo(f"==> {target.name}: {live[0]} is live already", err=True)
            return str(live[0])
    layout = server_layout(target)
    with Remote(target) as remote:
        wheels_for = probe(remote)
        click.echo(f"--> building a release for {wheels_for.tag}", err=True)
        made = build(wheels_for, source, version)
        upload(remote, made)
        install(remote, made)
        agent = layout.venv_bin(made.version)
        admin = shlex.quote(target.variables["platform_admin_email"])
        code = remote.stream(
            f"{agent} agent activate {made.version} --keep {keep} "
            f"--health-timeout {health_timeout} --admin-email {admin}"
        )
        if code != 0:
            _discard_if_never_live(remote, layout, made.version)
            raise OperatorError(
                f"{target.name}: release {made.version} was not switched to (see above)",
                exit_code=1,
            )
    click.echo(
        f"==> {target.name}: {made.version} live in {time.monotonic() - started:.1f} s", err=True
    )
    return made.version


def _discard_if_never_live(remote: Remote, layout: Layout, version: str) -> None:
    """The agent removes a release it refused; this covers one that could not even start it."""
    release = layout.release_dir(version)
    remote.run(
        f"grep -qs '\"{version}\"' {layout.history} || rm -rf {release}",
        check=False,
    )


def rollback(target: Target, health_timeout: float = 60.0) -> None:
    agent = server_layout(target).current_agent
    with Remote(target) as remote:
        code = remote.stream(f"{agent} agent rollback --health-timeout {health_timeout}")
        if code != 0:
            raise OperatorError(f"{target.name}: rollback failed (see above)", exit_code=1)


def releases(target: Target) -> list[dict[str, object]]:
    agent = server_layout(target).current_agent
    with Remote(target) as remote:
        found = remote.run(
            f"if [ -x {agent} ]; then {agent} agent releases; else echo '[]'; fi",
            what="listing releases",
        )
        return json.loads(found.stdout)


def admin_password(target: Target) -> str:
    agent = server_layout(target).current_agent
    with Remote(target) as remote:
        found = remote.run(f"{agent} agent admin-password", check=False)
        if found.returncode != 0:
            said = last_line(found.stderr, found.stdout, found.returncode)
            raise OperatorError(f"{target.name}: {said.removeprefix('eyeshots-server: error: ')}")
        return found.stdout.decode().strip()


def host_status(target: Target) -> dict[str, object]:
    agent = server_layout(target).current_agent
    with Remote(target) as remote:
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
