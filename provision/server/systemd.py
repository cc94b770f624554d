"""The release's systemd units on the server: running a release's command as the app's user,
starting a release's instances and waiting for their readiness checks, stopping them, and the
units that follow whatever release is current."""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import click

from provision.errors import OperatorError
from provision.server.layout import Layout, Service
from provision.shell import last_line, run


def provides(layout: Layout, service: Service, version: str) -> bool:
    """The host has the service's unit template and the release has its code."""
    site = Path(layout.release_dir(version)) / "venv" / "lib"
    return (Path(layout.unit_dir) / f"eyeshots-{service.name}@.service").exists() and any(
        site.glob(f"python3*/site-packages/{service.package}/__init__.py")
    )


def as_app(layout: Layout, version: str, *args: str, what: str, input: str | None = None) -> str:
    """A command of `version`'s server command, run as the app's user with the app's settings
    and secrets; raises "<what> failed: <its last line>"."""
    command = ["systemd-run", "--wait", "--pipe", "--quiet", "--collect"]
    command += [f"--uid={layout.app_user}", f"--gid={layout.data_group}"]
    command += ["--property=UMask=0007"]
    command += [f"--property=EnvironmentFile=-{env}" for env in layout.app_environment_files]
    command += [str(layout.venv_bin(version)), *args]
    return run(command, what=what, input=input, exit_code=1)


def start(units: list[str], version: str) -> None:
    subprocess.run(["systemctl", "reset-failed", *units], capture_output=True)
    run(["systemctl", "start", *units], what=f"starting {version}", exit_code=1)


def stop(units: list[str]) -> None:
    subprocess.run(["systemctl", "stop", *units], capture_output=True)


def enable(units: list[str], version: str) -> None:
    run(["systemctl", "enable", "--quiet", *units], what=f"enabling {version}", exit_code=1)


def retire(units: list[str]) -> None:
    """Stop and disable a release's instances (whatever of them exists)."""
    subprocess.run(["systemctl", "disable", "--now", "--quiet", *units], check=False)


def wait_ready(service: Service, version: str, port: int, timeout: float) -> None:
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


def journal_tail(unit: str) -> None:
    log = subprocess.run(
        ["journalctl", "-u", unit, "-n", "15", "--no-pager", "-o", "cat"],
        capture_output=True,
        text=True,
    )
    for line in log.stdout.splitlines() or [last_line(log.stderr, "", log.returncode)]:
        click.echo(f"    {unit}: {line}", err=True)


def start_current_units(layout: Layout) -> None:
    """Units that run whatever release is current (the exporter, the jobs' timers) restart on
    the new code; the first deploy enables them."""
    unit_dir = Path(layout.unit_dir)
    services = [p.name for p in sorted(unit_dir.glob("eyeshots-*.service")) if "@" not in p.name]
    daemons = [s for s in services if "Type=oneshot" not in (unit_dir / s).read_text()]
    timers = [p.name for p in sorted(unit_dir.glob("eyeshots-*.timer"))]
    if daemons:
        what = "enabling the release's services"
        run(["systemctl", "enable", "--quiet", *daemons], what=what, exit_code=1)
        what = "restarting the release's services"
        run(["systemctl", "restart", *daemons], what=what, exit_code=1)
    if timers:
        what = "enabling the timers"
        run(["systemctl", "enable", "--now", "--quiet", *timers], what=what, exit_code=1)
