"""Sandbox VPS machines for host tests, driven through the real CLI."""

from __future__ import annotations

import json
import os
import re
import shlex
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
        if "input" not in kwargs:
            kwargs["stdin"] = subprocess.DEVNULL
        result = subprocess.run(args, capture_output=True, text=True, timeout=300, **kwargs)
        if result.returncode == 255 and "Connection timed out" in result.stderr:
            # Seen once in ~10 CI runs (test_tls_acme, after a full provision): one SYN to the
            # sandbox unanswered for 10 s. The command never ran, so one more attempt is safe;
            # the cause is still open (see the session-2 closing note).
            result = subprocess.run(args, capture_output=True, text=True, timeout=300, **kwargs)
        if check and result.returncode != 0:
            raise AssertionError(
                f"{command!r} as {user} failed ({result.returncode}): {result.stderr}"
            )
        return result

    def sudo(self, command: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run `command` as root through the admin user (root cannot log in once hardened)."""
        return self.ssh(f"sudo -n sh -c {shlex.quote(command)}", user="deploy", check=check)

    def status(self) -> dict:
        result = eyeshots("sandbox", "status", self.name, "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)


# Test machines get a subnet of their own, so an operator's running sandbox never hides or
# causes a leftover bridge or NAT rule. Two test runs side by side (parallel workers, two
# checkouts) set EYESHOTS_TEST_SUBNET and EYESHOTS_TEST_PREFIX to stay out of each other's way.
TEST_SUBNET = os.environ.get("EYESHOTS_TEST_SUBNET", "10.213.99.0/24")
PREFIX = os.environ.get("EYESHOTS_TEST_PREFIX", "")
# The suite test machines boot (bookworm unless set): EYESHOTS_TEST_SUITE=trixie runs a host test
# module, e.g. the verification suite tests/hosts/test_hardening.py, on Debian 13.
SUITE = os.environ.get("EYESHOTS_TEST_SUITE")


def machine_name(name: str) -> str:
    """A test machine's name, with this run's prefix (given once: a prefixed name stays as is)."""
    return name if name.startswith(PREFIX) else f"{PREFIX}{name}"


def boot(name: str, suite: str | None = None) -> Sandbox:
    name = machine_name(name)
    suite = suite or SUITE
    options = ["--suite", suite] if suite else []
    result = eyeshots("sandbox", "up", name, "--subnet", TEST_SUBNET, *options)
    assert result.returncode == 0, result.stderr
    return Sandbox(name, result.stdout)


def destroy(name: str) -> None:
    result = eyeshots("sandbox", "down", machine_name(name))
    assert result.returncode == 0, result.stderr


def write_inventory(directory, host: str, group_vars: str = "") -> str:
    """An inventory like inventories/local, its host `host` pointing at that test machine."""
    (directory / "group_vars").mkdir(parents=True, exist_ok=True)
    (directory / "hosts.yml").write_text(
        f"all:\n  children:\n    eyeshots:\n      hosts:\n        {host}:\n"
        f"          eyeshots_sandbox: {machine_name(host)}\n"
    )
    (directory / "group_vars" / "all.yml").write_text(group_vars)
    return str(directory)


def provision(inventory: str, *args: str) -> tuple[int, str, str]:
    """Run `eyeshots provision`; returns (operations changed, stdout, stderr) and asserts success."""
    result = eyeshots("provision", "-i", inventory, *args)
    assert result.returncode == 0, result.stderr[-4000:]
    return (
        changes(result.stdout, "would change" if "--dry" in args else "changed"),
        result.stdout,
        result.stderr,
    )


def changes(output: str, verb: str = "changed") -> int:
    """The number of changed operations in eyeshots' summary of pyinfra's JSON results."""
    match = re.search(
        rf"^(\d+) operations {verb}, (\d+) already in place, (\d+) errors", output, re.M
    )
    assert match, output
    assert match.group(3) == "0", output
    return int(match.group(1))
