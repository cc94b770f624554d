"""`eyeshots up`, the README's first command: the local sandbox VPS booted and provisioned."""

from __future__ import annotations

from eyeshots_cli import eyeshots
from sandboxes import Sandbox

from provision.sandbox.machine import load


def test_up_boots_and_provisions_the_local_sandbox():
    already_there = load("eyeshots") is not None
    try:
        result = eyeshots("up")
        assert result.returncode == 0, result.stderr[-3000:]
        assert "The sandbox VPS is provisioned" in result.stdout
        assert "eyeshots sandbox ssh eyeshots -u deploy" in result.stdout
        box = Sandbox("eyeshots", result.stdout)
        assert box.ssh("sudo -n hostname", user="deploy").stdout.strip() == "eyeshots-sandbox"

        again = eyeshots("up")
        assert again.returncode == 0, again.stderr[-3000:]
        assert "already running" in again.stderr
        assert "0 operations changed" in again.stdout
    finally:
        if not already_there:
            assert eyeshots("sandbox", "down", "eyeshots").returncode == 0
