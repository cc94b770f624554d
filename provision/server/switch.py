"""A zero-downtime release switch on the server, run as root by the deploy's agent.

Migrate (expand-only, so the running release keeps working), start the new release's instances
beside the old ones on the other port slot, wait for their readiness checks, point nginx at
them with a graceful reload, wait until the old nginx workers have finished their requests,
then stop the old instances. Any failure before the reload leaves the old release serving and
the new instances stopped.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from provision.console import say
from provision.errors import OperatorError
from provision.server import admin, nginx, systemd
from provision.server.layout import Layout
from provision.server.releases import Releases


@contextmanager
def deploy_lock(layout: Layout) -> Iterator[None]:
    with open(layout.lock, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OperatorError(
                "another deploy or rollback is running on this host; wait for it to finish"
            ) from None
        yield


def _migrate(layout: Layout, releases: Releases, version: str) -> None:
    """The new release's migrations, before any of its instances starts."""
    try:
        systemd.as_app(layout, version, "app", "migrate", what=f"migrations of {version}")
    except OperatorError as error:
        now = releases.current()
        keeps = f"; {now} keeps serving" if now else ""
        raise OperatorError(f"{error}{keeps}", exit_code=1) from None


def activate(
    layout: Layout,
    version: str,
    run_migrations: bool,
    health_timeout: float,
    keep: int,
    admin_email: str = "",
) -> None:
    releases = Releases(layout)
    if not releases.is_installed(version):
        raise OperatorError(
            f"release {version} is not installed in {layout.releases}; deploy it first"
        )
    old = releases.current()
    services = [s for s in layout.services if systemd.provides(layout, s, version)]
    if not services:
        raise OperatorError(
            f"no eyeshots unit templates in {layout.unit_dir}; run `eyeshots provision` first"
        )
    if run_migrations:
        say(f"running migrations of {version}")
        try:
            _migrate(layout, releases, version)
        except OperatorError:
            releases.discard(version)
            raise
    if old == version:
        say(f"{version} is already the current release")
        return
    slot = 1 if old and releases.slot_of(old) == 0 else 0
    env = [f"EYESHOTS_SLOT={slot}\n"] + [
        f"EYESHOTS_{s.name.upper()}_PORT={s.ports[slot]}\n" for s in layout.services
    ]
    nginx.write_atomic(Path(layout.release_dir(version)) / "instance.env", "".join(env))
    units = [s.unit(version) for s in services]
    say(f"starting {', '.join(units)} on slot {slot}")
    try:
        systemd.start(units, version)
        for service in services:
            systemd.wait_ready(service, version, service.ports[slot], health_timeout)
    except OperatorError:
        for unit in units:
            systemd.journal_tail(unit)
        systemd.stop(units)
        releases.discard(version)
        if old:
            say(f"stopped and removed {version}; {old} keeps serving")
        raise
    say(f"{version} is ready; switching nginx to slot {slot}")
    nginx.switch(layout, slot, version)
    systemd.enable(units, version)
    if old:
        say(f"stopping {old} (its requests have drained)")
        systemd.retire([s.unit(old) for s in layout.services])
    releases.make_current(version)
    systemd.start_current_units(layout)
    if admin_email:
        admin.create_first(layout, version, admin_email)
    releases.prune(keep)
    say(f"{version} is live")
