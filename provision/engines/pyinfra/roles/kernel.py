"""roles/kernel with pyinfra: sysctl hardening, persisted and applied."""

from __future__ import annotations

from pyinfra.api import deploy
from pyinfra.operations import files

from provision.engines.pyinfra import variables
from provision.engines.pyinfra.operations import config, sysctl
from provision.templates import render


@deploy("kernel")
def apply() -> None:
    v = variables()
    config.file(
        name="Persist kernel hardening",
        content=render("kernel", "sysctl.conf.j2", v),
        dest="/etc/sysctl.d/90-eyeshots.conf",
    )
    config.file(
        name="Modules that cannot be loaded",
        content=render("kernel", "modprobe.conf.j2", v),
        dest="/etc/modprobe.d/eyeshots-disabled.conf",
    )
    cores = v["kernel_disable_core_dumps"]
    for template, dest in (
        ("coredump.conf.j2", "/etc/systemd/coredump.conf.d/50-eyeshots.conf"),
        ("limits-core.conf.j2", "/etc/security/limits.d/50-eyeshots-core.conf"),
    ):
        if cores:
            config.file(
                name=f"No core dumps ({dest})", content=render("kernel", template, v), dest=dest
            )
        else:
            files.file(name=f"Core dumps allowed ({dest})", path=dest, present=False)
    sysctl.parameters(
        name="Apply kernel hardening",
        values={**v["kernel_sysctl"], **(v["kernel_sysctl_extra"] or {})},
    )
