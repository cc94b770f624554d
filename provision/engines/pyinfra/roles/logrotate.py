"""roles/logrotate with pyinfra: nginx's and the platform's logs, daily, compressed, 14 kept."""

from __future__ import annotations

from pyinfra.api import deploy
from pyinfra.operations import files

from provision.engines.pyinfra import variables
from provision.engines.pyinfra.files import managed


@deploy("logrotate")
def apply() -> None:
    v = variables()
    files.directory(
        name="Platform log directory",
        path=v["logrotate_eyeshots_log_dir"],
        mode="0750",
        group="adm",
    )
    managed("logrotate", v)
