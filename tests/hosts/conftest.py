"""Host tests boot real sandbox machines; every one a test boots is taken down after it."""

from __future__ import annotations

import os
import shutil

import pytest
from sandboxes import Sandbox, boot, destroy

if os.geteuid() != 0 or shutil.which("systemd-nspawn") is None:
    # Host tests are not optional: CI runs as root with nspawn installed by tests/run.
    raise pytest.UsageError(
        "tests/hosts needs root and systemd-nspawn; run `bash tests/run` as root"
    )


@pytest.fixture
def sandbox_factory():
    """Boot machines by name; every one is taken down when the test ends."""
    booted: list[str] = []

    def make(name: str) -> Sandbox:
        booted.append(name)
        return boot(name)

    yield make
    for name in booted:
        destroy(name)
