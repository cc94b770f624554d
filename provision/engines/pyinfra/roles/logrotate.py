"""roles/logrotate with pyinfra: nginx's and the platform's logs, daily, compressed, 14 kept."""

from __future__ import annotations

from pyinfra.api import deploy
from pyinfra.operations import files

from provision.engines.pyinfra import variables
from provision.engines.pyinfra.operations import config
from provision.templates import render


@deploy("logrotate")
def apply() -> None:
    v = variables()
    files.directory(
        name="Platform log directory",
        path=v["logrotate_eyeshots_log_dir"],
        mode="0750",
        group="adm",
    )
    for template, dest in (
        ("nginx.j2", "/etc/logrotate.d/nginx"),
        ("eyeshots.j2", "/etc/logrotate.d/eyeshots"),
    ):
        config.file(
            name=f"Rotate {dest.rsplit('/', 1)[1]} logs",
            content=render("logrotate", template, v),
            dest=dest,
            validate="logrotate -d %s >/dev/null 2>&1",
        )
