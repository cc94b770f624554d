"""Who writes to the repository: the user name recorded in snapshots, locks and key files."""

from __future__ import annotations

import getpass


def username() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""  # a uid without a passwd entry (containers): restic records "" too
