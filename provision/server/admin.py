"""The first admin account of a new server: made once with a random password that the operator
reads once (`eyeshots admin-password`); never printed by the deploy."""

from __future__ import annotations

import secrets
from pathlib import Path

from provision.console import say
from provision.errors import OperatorError
from provision.server import systemd
from provision.server.layout import Layout


def create_first(layout: Layout, version: str, email: str) -> None:
    done, waiting = Path(layout.first_admin_done), Path(layout.first_admin_password)
    if done.exists():
        return
    password = secrets.token_urlsafe(15)
    systemd.as_app(
        layout, version, "app", "create-admin", "--email", email, "--password-stdin",
        what=f"creating the first admin {email}", input=password + "\n",
    )  # fmt: skip
    waiting.write_text("")
    waiting.chmod(0o600)
    waiting.write_text(f"{email} {password}\n")
    done.touch()
    say(f"first admin {email} created; read its password once with `eyeshots admin-password`")


def read_password_once(layout: Layout) -> str:
    waiting = Path(layout.first_admin_password)
    if not waiting.exists():
        raise OperatorError(
            "no first-admin password is waiting: it was read already (reset it with "
            "`eyeshots-server app create-admin` on the server) or no release was deployed yet"
        )
    text = waiting.read_text().strip()
    waiting.unlink()
    return text
