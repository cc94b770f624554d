"""roles/kernel with pyinfra: sysctl hardening, persisted and applied."""

from __future__ import annotations

from pyinfra.api import deploy

from provision.deploys import variables
from provision.operations import config, sysctl
from provision.templating import render


@deploy("kernel")
def apply() -> None:
    v = variables()
    config.file(
        name="Persist kernel hardening",
        content=render("kernel", "sysctl.conf.j2", v),
        dest="/etc/sysctl.d/90-eyeshots.conf",
    )
    sysctl.parameters(
        name="Apply kernel hardening",
        values={**v["kernel_sysctl"], **(v["kernel_sysctl_extra"] or {})},
    )
