"""`eyeshots-server`: the command a server's systemd units and the deploy's agent run, from a
release's virtualenv. The same concern groups as the operator's `eyeshots` (app, files, backup,
monitoring) plus the release agent, and none of the operator's tools."""

from __future__ import annotations

from provision.console import lazy_group, run_main

LAZY_COMMANDS: dict[str, str] = {
    "app": "app.cli:cli",
    "files": "app.files.cli:cli",
    "backup": "backup.cli:cli",
    "monitoring": "monitoring.cli:cli",
    "agent": "provision.server.agent:agent",
}


cli = lazy_group(
    "eyeshots-server",
    LAZY_COMMANDS,
    "The Eye Shots platform's services and release agent, on a server.",
)


def main() -> None:
    run_main(cli, "eyeshots-server")
