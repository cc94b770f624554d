"""Running host commands with failures turned into one-line operator errors."""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Sequence

from provision.errors import OperatorError


def run(args: Sequence[str], *, check: bool = True, input: str | None = None) -> str:
    """Run a command, return its stdout; on failure raise with the command and its last words."""
    result = subprocess.run(list(args), capture_output=True, text=True, input=input)
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        last = detail[-1] if detail else f"exit code {result.returncode}"
        raise OperatorError(f"`{shlex.join(args)}` failed: {last}")
    return result.stdout


def succeeds(args: Sequence[str]) -> bool:
    return subprocess.run(list(args), capture_output=True).returncode == 0
