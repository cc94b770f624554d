"""Applying kernel parameters the host can take, reporting the ones it cannot."""

from __future__ import annotations

import shlex
from collections.abc import Iterator

from pyinfra import host, logger
from pyinfra.api import operation

from provision.facts.sysctl import KernelParameters


def skipped(values: dict[str, object]) -> dict[str, str]:
    """Keys that differ but cannot be set on this host, with the reason."""
    current = host.get_fact(KernelParameters, keys=list(values))
    reasons = {}
    for key, wanted in values.items():
        state = current.get(key, {"value": None, "writable": False})
        if state["value"] is None:
            reasons[key] = "absent here"
        elif state["value"] != str(wanted) and not state["writable"]:
            reasons[key] = "read-only here (container)"
    return reasons


@operation()
def parameters(values: dict[str, object]) -> Iterator[str]:
    """Set every kernel parameter in ``values`` that differs and can be set here."""
    current = host.get_fact(KernelParameters, keys=list(values))
    cannot = skipped(values)
    if cannot:
        logger.info(
            f"[{host.name}] sysctl: skipped {len(cannot)} key(s): "
            + ", ".join(f"{key} ({why})" for key, why in sorted(cannot.items()))
        )
    changes = [
        f"{key}={wanted}"
        for key, wanted in values.items()
        if key not in cannot and current[key]["value"] != str(wanted)
    ]
    if not changes:
        host.noop(f"{len(values) - len(cannot)} kernel parameters in place, {len(cannot)} skipped")
        return
    yield "sysctl -q -w " + " ".join(shlex.quote(change) for change in changes)
