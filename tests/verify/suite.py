"""Running the verification suite against an inventory from another test or tool."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(inventory: str, limit: str | None = None) -> subprocess.CompletedProcess[str]:
    """`pytest tests/verify --inventory INVENTORY [--limit HOST]` in a fresh interpreter."""
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rfE"]
    command += [str(ROOT / "tests" / "verify"), "--inventory", inventory]
    if limit:
        command += ["--limit", limit]
    return subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL
    )


def summary(result: subprocess.CompletedProcess[str]) -> str:
    """pytest's closing line (e.g. '40 passed in 36.8s')."""
    lines = result.stdout.strip().splitlines()
    return lines[-1] if lines else "(no output)"
