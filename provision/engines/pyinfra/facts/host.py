"""Facts about the kind of host: decisions are taken from these, never from a host's name."""

from __future__ import annotations

from pyinfra.api import FactBase


class Container(FactBase[str]):
    """The container technology the host runs in (``systemd-nspawn``, ``lxc``, ``docker`` ...),
    or ``""`` on a VM or bare metal. Containers share the host's clock and kernel."""

    def command(self) -> str:
        return "systemd-detect-virt --container || true"

    def process(self, output: list[str]) -> str:
        value = output[0].strip() if output else ""
        return "" if value == "none" else value
