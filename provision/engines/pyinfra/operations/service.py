"""Reloads that survive a failed run.

A handler-style reload (`_if=config.did_change`) is lost when the run fails between the config
change and the reload: the next run sees no change and never reloads, leaving the old config
live. Instead, a change leaves a marker on the host and `pending` acts on the marker, so a
reload owed by an earlier, failed run still happens.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator

from pyinfra import host
from pyinfra.api import operation
from pyinfra.facts.files import File

PENDING_DIR = "/run/eyeshots-pending"


def marker(service: str, action: str) -> str:
    return f"{PENDING_DIR}/{service}.{action}"


def mark(service: str, action: str = "reload") -> str:
    """The shell command that records that ``service`` owes an ``action``."""
    return f"mkdir -p {PENDING_DIR} && touch {marker(service, action)}"


def _command(service: str, action: str) -> str:
    if action == "daemon-reload":
        return "systemctl daemon-reload"
    return f"systemctl {action} {service}"


@operation()
def notify(service: str, action: str = "reload") -> Iterator[str]:
    """Record that ``service`` owes an ``action`` (use with ``_if=`` on the triggering change)."""
    yield mark(service, action)


# How long an owed action waits for a service that was only just started to answer.
READY_TIMEOUT = 60


@operation()
def pending(service: str, action: str = "reload", ready: str | None = None) -> Iterator[str]:
    """Carry out an owed ``action`` (reload, restart, daemon-reload) of ``service``. ``ready``
    is a command that succeeds once the service can take the action: a reload of a service
    started a moment ago in the same run (fail2ban's server needs seconds) waits for it."""
    path = marker(service, action)
    if not host.get_fact(File, path=path):
        host.noop(f"{service}: no {action} owed")
        return
    # A restart also settles an owed reload.
    settled = f"{path} {marker(service, 'reload')}" if action == "restart" else path
    wait = ""
    if ready:
        wait = (
            f"timeout {READY_TIMEOUT} sh -c {shlex.quote(f'until {ready}; do sleep 0.2; done')}"
            " >/dev/null 2>&1; "
        )
    yield f"{wait}{_command(service, action)} && rm -f {settled}"
