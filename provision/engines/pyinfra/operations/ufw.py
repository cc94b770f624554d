"""UFW operations: each yields a `ufw` command only when the host differs from what is asked."""

from __future__ import annotations

import shlex
from collections.abc import Iterator

from pyinfra import host
from pyinfra.api import OperationValueError, operation

from provision.engines.pyinfra.facts.ufw import UfwRules, UfwStatus

DIRECTIONS = ("incoming", "outgoing", "routed")


def _status() -> dict:
    # None: UFW is not installed yet (it is, by the time the commands run): nothing is set.
    return host.get_fact(UfwStatus) or {"active": False, "logging": "off", "defaults": {}}


@operation()
def default(direction: str, policy: str) -> Iterator[str]:
    """Set the default policy of ``direction`` (incoming, outgoing, routed)."""
    if direction not in DIRECTIONS:
        raise OperationValueError(f"direction must be one of {', '.join(DIRECTIONS)}")
    if _status()["defaults"].get(direction) == policy:
        host.noop(f"default {direction} policy is {policy}")
        return
    yield f"ufw default {policy} {direction}"


@operation()
def logging(level: str) -> Iterator[str]:
    if _status()["logging"] == level:
        host.noop(f"logging is {level}")
        return
    yield "ufw logging off" if level == "off" else f"ufw logging {level}"


@operation()
def rule(rule: str, present: bool = True, first: bool = False) -> Iterator[str]:
    """
    Add or remove one rule, written as ``ufw show added`` prints it without ``ufw``
    (``limit 22/tcp``, ``allow from 198.51.100.7 to any port 9100 proto tcp``).

    + first: insert it before every other rule (UFW stops at the first rule that matches)
    """
    exists = rule in (host.get_fact(UfwRules) or [])
    if exists == present:
        host.noop(f"rule {'present' if present else 'absent'}: {rule}")
        return
    args = shlex.split(rule)
    if not present:
        yield shlex.join(["ufw", "delete", *args])
    elif first and host.get_fact(UfwRules):
        yield shlex.join(["ufw", "insert", "1", *args])
    else:
        yield shlex.join(["ufw", *args])


@operation()
def enabled() -> Iterator[str]:
    """Turn the firewall on (and on at boot). Add the SSH rule first."""
    if _status()["active"]:
        host.noop("firewall is active")
        return
    yield "ufw --force enable"
