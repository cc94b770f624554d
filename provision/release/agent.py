"""The on-server half of a release switch, run as root from the new release's virtualenv by
`eyeshots deploy` (over SSH). Standard library + click only: it runs on the VPS.

A switch: migrate (expand-only, so the running release keeps working), start the new release's
instances beside the old ones on the other port slot, wait for their readiness checks, point
nginx at them with a graceful reload, wait until the old nginx workers have finished their
requests, then stop the old instances. Any failure before the reload leaves the old release
serving and the new instances stopped.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import click

from provision.errors import OperatorError
from provision.release import layout

UNIT_DIR = Path("/etc/systemd/system")
APP_ENV_FILES = ("/etc/eyeshots/app.env", "/etc/eyeshots/secrets.env")
FIRST_ADMIN_PASSWORD = Path("/etc/eyeshots/first-admin-password")
FIRST_ADMIN_DONE = Path("/etc/eyeshots/.first-admin-created")


@dataclass(frozen=True)
class Service:
    name: str  # eyeshots-<name>@<version>.service
    ports: tuple[int, int]  # one per slot
    health: str
    upstream: str  # nginx upstream block name
    package: str  # the release provides the service when this package is installed

    def unit(self, version: str) -> str:
        return f"eyeshots-{self.name}@{version}.service"

    def provided_by(self, version: str) -> bool:
        """The host has the unit template and the release has the code."""
        site = Path(layout.release_dir(version)) / "venv" / "lib"
        return (UNIT_DIR / f"eyeshots-{self.name}@.service").exists() and any(
            site.glob(f"python3*/site-packages/{self.package}/__init__.py")
        )


SERVICES = (
    Service("app", (8101, 8102), "/readyz", "eyeshots_app", "app"),
    Service("files", (8201, 8202), "/healthz", "eyeshots_files", "app/files"),
)


def say(message: str) -> None:
    click.echo(f"--> {message}", err=True)


def _run(command: list[str], what: str) -> str:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines() or [
            f"exit {result.returncode}"
        ]
        raise OperatorError(f"{what} failed: {lines[-1]}", exit_code=1)
    return result.stdout


@contextmanager
def deploy_lock() -> Iterator[None]:
    with open(layout.LOCK, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OperatorError(
                "another deploy or rollback is running on this host; wait for it to finish"
            ) from None
        yield


def current() -> str | None:
    target = Path(layout.CURRENT)
    return target.resolve().name if target.is_symlink() and target.resolve().is_dir() else None


def history() -> list[dict[str, str]]:
    path = Path(layout.HISTORY)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def previous() -> str | None:
    """The release that was current before the current one, if it is still installed."""
    now = current()
    for entry in reversed(history()):
        version = entry["version"]
        if version != now and Path(layout.release_dir(version)).is_dir():
            return version
    return None


def installed() -> list[str]:
    releases = Path(layout.RELEASES)
    if not releases.is_dir():
        return []
    return sorted(p.name for p in releases.iterdir() if (p / "venv" / "bin" / "eyeshots").exists())


def slot_of(version: str) -> int | None:
    env = Path(layout.release_dir(version)) / "instance.env"
    if not env.exists():
        return None
    for line in env.read_text().splitlines():
        if line.startswith("EYESHOTS_SLOT="):
            return int(line.split("=", 1)[1])
    return None


def _write_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    scratch = path.with_name(f".{path.name}.new")
    scratch.write_text(text)
    scratch.chmod(mode)
    os.replace(scratch, path)


def _as_app(version: str, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    """A command of `version` run as the app's user with the app's settings and secrets."""
    command = ["systemd-run", "--wait", "--pipe", "--quiet", "--collect"]
    command += ["--uid=eyeshots-app", "--gid=eyeshots-data", "--property=UMask=0007"]
    command += [f"--property=EnvironmentFile=-{env}" for env in APP_ENV_FILES]
    command += [str(layout.venv_bin(version)), *args]
    return subprocess.run(command, capture_output=True, text=True, input=input)


def migrate(version: str) -> None:
    """Run the new release's migrations, before any of its instances starts."""
    result = _as_app(version, "app", "migrate")
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines() or ["?"]
        keeps = f"; {current()} keeps serving" if current() else ""
        raise OperatorError(f"migrations of {version} failed: {lines[-1]}{keeps}", exit_code=1)


def first_admin(version: str, email: str) -> None:
    """On a new server, the first admin account with a random password that the operator reads
    once (`eyeshots admin-password`); never printed here."""
    if FIRST_ADMIN_DONE.exists():
        return
    password = secrets.token_urlsafe(15)
    result = _as_app(
        version, "app", "create-admin", "--email", email, "--password-stdin", input=password + "\n"
    )
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines() or ["?"]
        raise OperatorError(f"creating the first admin {email} failed: {lines[-1]}", exit_code=1)
    FIRST_ADMIN_PASSWORD.write_text("")
    FIRST_ADMIN_PASSWORD.chmod(0o600)
    FIRST_ADMIN_PASSWORD.write_text(f"{email} {password}\n")
    FIRST_ADMIN_DONE.touch()
    say(f"first admin {email} created; read its password once with `eyeshots admin-password`")


def _wait_ready(service: Service, version: str, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{port}{service.health}"
    last = "no answer"
    while time.monotonic() < deadline:
        state = subprocess.run(
            ["systemctl", "is-active", service.unit(version)], capture_output=True, text=True
        ).stdout.strip()
        if state in ("failed", "inactive"):
            raise _unhealthy(service, version, f"the unit is {state}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
                last = f"HTTP {answer.status}"
        except urllib.error.HTTPError as error:
            last = f"HTTP {error.code}"
        except OSError as error:
            last = str(getattr(error, "reason", error))
        time.sleep(0.2)
    raise _unhealthy(service, version, f"GET {url} gave {last} for {timeout:.0f} s")


def _unhealthy(service: Service, version: str, detail: str) -> OperatorError:
    return OperatorError(
        f"release {version} failed its health check: {service.unit(version)}: {detail}",
        exit_code=1,
    )


def _journal_tail(unit: str) -> None:
    log = subprocess.run(
        ["journalctl", "-u", unit, "-n", "15", "--no-pager", "-o", "cat"],
        capture_output=True,
        text=True,
    ).stdout
    for line in log.splitlines():
        click.echo(f"    {unit}: {line}", err=True)


def _nginx_workers() -> set[int]:
    out = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    return {int(line.split()[0]) for line in out.splitlines() if "nginx: worker process" in line}


def _switch_nginx(services: list[Service], slot: int, version: str) -> None:
    path = Path(layout.NGINX_UPSTREAMS)
    path.parent.mkdir(parents=True, exist_ok=True)
    old = path.read_text() if path.exists() else None
    blocks = [f"# Managed by `eyeshots deploy`: release {version}, slot {slot}. Do not edit.\n"]
    for service in SERVICES:
        # every upstream name exists, so the site config stays valid whatever is installed
        port = service.ports[slot]
        blocks.append(f"upstream {service.upstream} {{\n    server 127.0.0.1:{port};\n")
        blocks.append("    keepalive 16;\n}\n")
    _write_atomic(path, "".join(blocks))
    check = subprocess.run(["nginx", "-t", "-q"], capture_output=True, text=True)
    if check.returncode != 0:
        if old is None:
            path.unlink()
        else:
            _write_atomic(path, old)
        lines = check.stderr.strip().splitlines() or ["nginx -t failed"]
        raise OperatorError(f"nginx refused the new upstreams: {lines[-1]}", exit_code=1)
    draining = _nginx_workers()
    _run(["systemctl", "reload", "nginx"], "reloading nginx")
    # Old workers finish their requests, then exit (worker_shutdown_timeout bounds long streams).
    deadline = time.monotonic() + 120
    while draining & _nginx_workers() and time.monotonic() < deadline:
        time.sleep(0.1)


def activate(
    version: str, run_migrations: bool, health_timeout: float, keep: int, admin_email: str = ""
) -> None:
    release = Path(layout.release_dir(version))
    if not (release / "venv" / "bin" / "eyeshots").exists():
        raise OperatorError(
            f"release {version} is not installed in {layout.RELEASES}; deploy it first"
        )
    old = current()
    services = [s for s in SERVICES if s.provided_by(version)]
    if not services:
        raise OperatorError(
            f"no eyeshots unit templates in {UNIT_DIR}; run `eyeshots provision` first"
        )
    if run_migrations:
        say(f"running migrations of {version}")
        try:
            migrate(version)
        except OperatorError:
            _discard(version)
            raise
    if old == version:
        say(f"{version} is already the current release")
        return
    old_slot = slot_of(old) if old else None
    slot = 1 if old_slot == 0 else 0
    env = [f"EYESHOTS_SLOT={slot}\n"] + [
        f"EYESHOTS_{s.name.upper()}_PORT={s.ports[slot]}\n" for s in SERVICES
    ]
    _write_atomic(release / "instance.env", "".join(env))
    units = [s.unit(version) for s in services]
    subprocess.run(["systemctl", "reset-failed", *units], capture_output=True)
    say(f"starting {', '.join(units)} on slot {slot}")
    try:
        _run(["systemctl", "start", *units], f"starting {version}")
        for service in services:
            _wait_ready(service, version, service.ports[slot], health_timeout)
    except OperatorError:
        for unit in units:
            _journal_tail(unit)
        subprocess.run(["systemctl", "stop", *units], capture_output=True)
        _discard(version)
        if old:
            say(f"stopped and removed {version}; {old} keeps serving")
        raise
    say(f"{version} is ready; switching nginx to slot {slot}")
    _switch_nginx(services, slot, version)
    _run(["systemctl", "enable", "--quiet", *units], f"enabling {version}")
    if old:
        old_units = [s.unit(old) for s in SERVICES]
        say(f"stopping {old} (its requests have drained)")
        subprocess.run(["systemctl", "disable", "--now", "--quiet", *old_units], check=False)
    link = Path(layout.CURRENT)
    scratch = link.with_name(".current.new")
    scratch.unlink(missing_ok=True)
    scratch.symlink_to(release)
    os.replace(scratch, link)
    with open(layout.HISTORY, "a") as log:
        entry = {
            "version": version,
            "activated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        log.write(json.dumps(entry) + "\n")
    _start_current_units()
    if admin_email:
        first_admin(version, admin_email)
    prune(keep)
    say(f"{version} is live")


def _start_current_units() -> None:
    """Units that run whatever release is current (the exporter, the jobs' timers) restart on
    the new code; the first deploy enables them."""
    services = [p.name for p in sorted(UNIT_DIR.glob("eyeshots-*.service")) if "@" not in p.name]
    daemons = [s for s in services if "Type=oneshot" not in (UNIT_DIR / s).read_text()]
    timers = [p.name for p in sorted(UNIT_DIR.glob("eyeshots-*.timer"))]
    if daemons:
        _run(["systemctl", "enable", "--quiet", *daemons], "enabling the release's services")
        _run(["systemctl", "restart", *daemons], "restarting the release's services")
    if timers:
        _run(["systemctl", "enable", "--now", "--quiet", *timers], "enabling the timers")


def _discard(version: str) -> None:
    """A release that never went live leaves nothing behind (its journal keeps the logs)."""
    if version != current() and version not in {e["version"] for e in history()}:
        shutil.rmtree(layout.release_dir(version), ignore_errors=True)


def prune(keep: int) -> None:
    """Keep the newest `keep` releases, and always the current and previous ones."""
    protected = {current(), previous()}
    surplus = [v for v in installed() if v not in protected][: max(0, len(installed()) - keep)]
    for version in surplus:
        shutil.rmtree(layout.release_dir(version), ignore_errors=True)
        say(f"removed old release {version}")


def releases() -> list[dict[str, object]]:
    now, before = current(), previous()
    activated = {e["version"]: e["activated"] for e in history()}
    return [
        {
            "version": v,
            "current": v == now,
            "previous": v == before,
            "activated": activated.get(v, ""),
        }
        for v in installed()
    ]


@click.group()
def agent() -> None:
    """Commands `eyeshots deploy` runs on the server (as root); not for the operator's machine."""


@agent.command("activate")
@click.argument("version")
@click.option("--migrate/--no-migrate", default=True, show_default=True)
@click.option("--health-timeout", default=60.0, show_default=True, help="Seconds to wait.")
@click.option("--keep", default=5, show_default=True, type=click.IntRange(2, 100))
@click.option("--admin-email", default="", help="Create this first admin on a new server.")
def activate_command(
    version: str, migrate: bool, health_timeout: float, keep: int, admin_email: str
) -> None:
    """Switch traffic to an installed release, with zero downtime."""
    with deploy_lock():
        activate(version, migrate, health_timeout, keep, admin_email)


@agent.command("admin-password")
def admin_password_command() -> None:
    """Print the first admin's password once, then forget it."""
    if not FIRST_ADMIN_PASSWORD.exists():
        raise OperatorError(
            "no first-admin password is waiting: it was read already (reset it with "
            "`eyeshots app create-admin` on the server) or no release was deployed yet"
        )
    click.echo(FIRST_ADMIN_PASSWORD.read_text().strip())
    FIRST_ADMIN_PASSWORD.unlink()


@agent.command("rollback")
@click.option("--health-timeout", default=60.0, show_default=True, help="Seconds to wait.")
def rollback_command(health_timeout: float) -> None:
    """Switch back to the previous release (no migrations run)."""
    with deploy_lock():
        target = previous()
        if target is None:
            raise OperatorError("no previous release is installed to roll back to")
        say(f"rolling back from {current()} to {target}")
        activate(target, run_migrations=False, health_timeout=health_timeout, keep=100)


@agent.command("releases")
def releases_command() -> None:
    """The installed releases as JSON."""
    click.echo(json.dumps(releases()))


@agent.command("status")
def status_command() -> None:
    """This server's release, units, disks, certificate and last backup as JSON."""
    from provision.release import hoststatus

    click.echo(json.dumps(hoststatus.gather()))
