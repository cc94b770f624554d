"""Running a command with its failure turned into a one-line error: the one implementation for
both sides (the operator's tools and the server's agent run local commands through `run`, the
operator's remote layer words its failures with `last_line`). Standard library only."""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Sequence
from pathlib import Path

from provision.errors import OperatorError


def last_line(stderr: str | bytes | None, stdout: str | bytes | None, returncode: int) -> str:
    """What a failed command said last (its error, else its output), or its exit code."""
    text = stderr or stdout or ""
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    lines = text.strip().splitlines()
    return lines[-1] if lines else f"exit code {returncode}"


def run(
    args: Sequence[str],
    *,
    what: str | None = None,
    check: bool = True,
    input: str | None = None,
    cwd: Path | None = None,
    exit_code: int = 2,
) -> str:
    """Run a command, return its stdout; on failure raise "<what> failed: <its last line>"."""
    try:
        result = subprocess.run(list(args), capture_output=True, text=True, input=input, cwd=cwd)
    except FileNotFoundError:
        raise OperatorError(
            f"`{args[0]}` is not installed (the operator's machine: `bash provision/setup.sh`)"
        ) from None
    if check and result.returncode != 0:
        doing = what or f"`{shlex.join(args)}`"
        detail = last_line(result.stderr, result.stdout, result.returncode)
        raise OperatorError(f"{doing} failed: {detail}", exit_code=exit_code)
    return result.stdout


def succeeds(args: Sequence[str]) -> bool:
    return subprocess.run(list(args), capture_output=True).returncode == 0
