"""Applying kernel parameters the host can take, reporting the ones it cannot."""

from __future__ import annotations

import shlex
from collections.abc import Iterator

from pyinfra import host, logger
from pyinfra.api import operation

from provision.engines.pyinfra.facts.sysctl import KernelParameters


def skipped(values: dict[str, object], current: dict[str, dict]) -> dict[str, str]:
    """Keys that differ but cannot be set on this host (``current``: KernelParameters)."""
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
    cannot = skipped(values, current)
    if cannot:
        logger.info(
            f"[{host.name}] sysctl: skipped {len(cannot)} key(s): "
            + ", ".join(f"{key} ({why})" for key, why in sorted(cannot.items()))
        )
    wanted = [key for key in values if key not in cannot]
    if all(current[key]["value"] == str(values[key]) for key in wanted):
        host.noop(f"{len(wanted)} kernel parameters in place, {len(cannot)} skipped")
        return
    settable = [key for key in wanted if current[key]["writable"]]
    # All of them, in order, not just the differing ones: writing net.ipv4.ip_forward makes
    # the kernel reset conf.all.accept_redirects, so one change can undo a key read as in place.
    yield "sysctl -q -w " + " ".join(shlex.quote(f"{key}={values[key]}") for key in settable)
