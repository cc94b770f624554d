"""Sandbox VPS machines for host tests, driven through the real CLI."""

from __future__ import annotations

import json
import subprocess

from eyeshots_cli import eyeshots

from provision.sandbox.cli import ssh_command
from provision.sandbox.machine import Machine, require


class Sandbox:
    """A booted machine plus helpers to run commands on it over SSH."""

    def __init__(self, name: str, up_output: str) -> None:
        self.name = name
        self.up_output = up_output

    @property
    def machine(self) -> Machine:
        return require(self.name)

    def ssh(
        self, command: str, user: str = "root", check: bool = True, **kwargs
    ) -> subprocess.CompletedProcess:
        args = ssh_command(self.machine, user, [command])
        args[1:1] = ["-o", "BatchMode=yes", "-o", "ConnectTimeout=10"]
        result = subprocess.run(
            args, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300, **kwargs
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{command!r} as {user} failed ({result.returncode}): {result.stderr}"
            )
        return result

    def status(self) -> dict:
        result = eyeshots("sandbox", "status", self.name, "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)


# Test machines get a subnet of their own, so an operator's running sandbox never hides or
# causes a leftover bridge or NAT rule.
TEST_SUBNET = "10.213.99.0/24"


def boot(name: str) -> Sandbox:
    result = eyeshots("sandbox", "up", name, "--subnet", TEST_SUBNET)
    assert result.returncode == 0, result.stderr
    return Sandbox(name, result.stdout)


def destroy(name: str) -> None:
    result = eyeshots("sandbox", "down", name)
    assert result.returncode == 0, result.stderr


def write_inventory(directory, machine_name: str, group_vars: str = "") -> str:
    """An inventory like inventories/local, pointing at a test machine."""
    (directory / "group_vars").mkdir(parents=True, exist_ok=True)
    (directory / "hosts.yml").write_text(
        f"all:\n  children:\n    eyeshots:\n      hosts:\n        {machine_name}:\n"
        f"          eyeshots_sandbox: {machine_name}\n"
    )
    (directory / "group_vars" / "all.yml").write_text(group_vars)
    return str(directory)
