"""`eyeshots`, the operator's command.

Each concern owns its command group in its own folder (`backup/cli.py`, `app/cli.py`, ...);
they are imported only when named (provision.console.LazyGroup). A server runs
`eyeshots-server` instead (provision/server/cli.py), which carries none of these operator
commands.
"""

from __future__ import annotations

from provision.console import lazy_group, run_main

# name -> "module:attribute" of a click command or group, loaded on first use
LAZY_COMMANDS: dict[str, str] = {
    "app": "app.cli:cli",
    "files": "app.files.cli:cli",
    "backup": "backup.cli:cli",
    "monitoring": "provision.monitoring_commands:monitoring",
    "sandbox": "provision.sandbox.cli:sandbox",
    "provision": "provision.commands:provision",
    "up": "provision.commands:up",
    "deploy": "provision.release.commands:deploy",
    "rollback": "provision.release.commands:rollback",
    "releases": "provision.release.commands:releases",
    "admin-password": "provision.release.commands:admin_password",
    "status": "provision.release.status_commands:status",
    "logs": "provision.release.status_commands:logs",
}


cli = lazy_group(
    "eyeshots", LAZY_COMMANDS, "Provision, deploy, monitor and back up the Eye Shots platform."
)


def main() -> None:
    run_main(cli, "eyeshots")
