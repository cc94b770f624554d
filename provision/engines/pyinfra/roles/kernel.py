"""roles/kernel with pyinfra: sysctl hardening, persisted and applied."""

from __future__ import annotations

from pyinfra.api import deploy

from provision.engines.pyinfra import variables
from provision.engines.pyinfra.files import managed
from provision.engines.pyinfra.operations import sysctl


@deploy("kernel")
def apply() -> None:
    v = variables()
    managed("kernel", v)
    sysctl.parameters(name="Apply kernel hardening", values=v["kernel_sysctl_applied"])
