"""`molecule test` from the repository root, as an Ansible user runs it: the default scenario
boots a sandbox machine (create), converges the stack, sees a second converge change nothing
(idempotence), passes the verification suite (verify) and takes the machine down (destroy).
Molecule's own inventory would switch host key checking off; the scenario switches it back on,
and its verify step asserts so on the connection variables Molecule hands Ansible."""

from __future__ import annotations

import os
import subprocess

from eyeshots_cli import PROJECT_ROOT
from sandboxes import PREFIX, TEST_SUBNET, destroy, machine_name


def molecule(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["molecule", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, "EYESHOTS_TEST_PREFIX": PREFIX, "EYESHOTS_TEST_SUBNET": TEST_SUBNET},
        capture_output=True,
        text=True,
        timeout=2400,
        stdin=subprocess.DEVNULL,
    )


def test_molecule_test_passes_with_host_keys_checked():
    try:
        result = molecule("test")
    finally:
        destroy(machine_name("molecule"))  # a no-op when molecule's destroy did its job
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-6000:]
    for step in ("create", "converge", "idempotence", "verify", "destroy"):
        assert f"{step}: Executed: Successful" in _plain(log), step
    # the suite ran and passed inside molecule's verify
    assert "The suite passed" in log
    assert "Molecule's inventory connects with strict host key checking" in log


def _plain(text: str) -> str:
    """Molecule's log without its ANSI colours."""
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text)
