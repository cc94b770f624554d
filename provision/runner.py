"""Running the pyinfra deploy against an inventory: connection details, a generated pyinfra
inventory, the pyinfra process itself, and a summary read from its JSON results."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provision import argspecs, hostvars
from provision.errors import OperatorError
from provision.hostvars import Host, Inventory
from provision.paths import PROJECT_ROOT
from provision.sandbox import machine as sandbox
from provision.sshkeys import operator_key

DEPLOY_FILE = PROJECT_ROOT / "provision" / "engines" / "pyinfra" / "site.py"
CONNECT_TIMEOUT = 5.0


@dataclass
class Target:
    """One inventory host with everything needed to reach it."""

    name: str
    address: str
    port: int
    user: str
    key: Path
    known_hosts: Path | None
    variables: dict[str, Any]

    def ssh_options(self) -> list[str]:
        options = ["-i", str(self.key), "-p", str(self.port), "-o", "IdentitiesOnly=yes"]
        if self.known_hosts:
            options += [
                "-o",
                f"UserKnownHostsFile={self.known_hosts}",
                "-o",
                "StrictHostKeyChecking=yes",
            ]
        else:
            options += ["-o", "StrictHostKeyChecking=accept-new"]
        return options

    def pyinfra_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "ssh_hostname": self.address,
            "ssh_port": self.port,
            "ssh_user": self.user,
            "ssh_key": str(self.key),
            "eyeshots_vars": self.variables,
        }
        if self.known_hosts:
            data["ssh_known_hosts_file"] = str(self.known_hosts)
            data["ssh_strict_host_key_checking"] = "yes"
        if self.user != "root":
            data["_sudo"] = True
        return data


@dataclass
class RunResult:
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    exit_code: int = 0


def load(location: str) -> Inventory:
    """The inventory's hosts with their variables as the engines apply them."""
    return hostvars.load(location, engine_vars)


def engine_vars(name: str, resolve: Callable[[str], Any]) -> dict[str, Any]:
    """The operator's public key may always log in as the admin user; a sandbox's only client
    is this machine (its gateway), which is never rate-limited or banned."""
    added: dict[str, Any] = {}
    key = Path(resolve("ansible_ssh_private_key_file") or operator_key().private).expanduser()
    public = Path(f"{key}.pub")
    keys = list(resolve("admin_authorized_keys") or [])
    if public.is_file() and public.read_text().strip() not in keys:
        added["admin_authorized_keys"] = [*keys, public.read_text().strip()]
    machine_name = resolve("eyeshots_sandbox")
    if machine_name:
        try:
            gateway = sandbox.require(machine_name).gateway()
        except OperatorError:
            return added  # not booted yet: targets() says how to start it
        sources = list(resolve("trusted_admin_sources") or [])
        if gateway not in sources:
            added["trusted_admin_sources"] = [*sources, gateway]
    return added


def targets(inventory: Inventory, limit: str | None = None) -> list[Target]:
    """Validate every host's variables, then resolve how to reach each one."""
    hosts = [h for h in inventory.hosts if limit is None or h.name == limit]
    if not hosts:
        raise OperatorError(f"--limit {limit}: no such host in {inventory.directory}/hosts.yml")
    argspecs.check(hosts)
    return [_target(host) for host in hosts]


def _target(host: Host) -> Target:
    v = dict(host.variables)
    key = (
        Path(v["ansible_ssh_private_key_file"]).expanduser()
        if v.get("ansible_ssh_private_key_file")
        else operator_key().private
    )
    known_hosts = None
    machine_name = v.get("eyeshots_sandbox")
    if machine_name:
        machine = sandbox.require(machine_name)
        if not machine.is_running():
            raise OperatorError(
                f"sandbox machine {machine_name} is not running; start it with `eyeshots sandbox up {machine_name}`"
            )
        address, port, known_hosts = machine.address, 22, machine.known_hosts
    else:
        address, port = str(v.get("ansible_host") or host.name), int(v.get("ansible_port") or 22)
    target = Target(host.name, address, port, "", key, known_hosts, v)
    _check_reachable(target)
    target.user = v.get("ansible_user") or _login_user(target)
    return target


def _check_reachable(target: Target) -> None:
    try:
        socket.create_connection((target.address, target.port), timeout=CONNECT_TIMEOUT).close()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise OperatorError(
            f"host {target.name} ({target.address}:{target.port}) is unreachable: {reason}; "
            "check ansible_host/ansible_port in the inventory and that the server is up"
        ) from None


def _login_user(target: Target) -> str:
    """The admin user once provisioning created it; the bootstrap user (root) before that."""
    admin = target.variables["admin_user"]
    probe = [
        "ssh",
        *target.ssh_options(),
        "-o",
        "BatchMode=yes",
        "-o",
        f"ConnectTimeout={int(CONNECT_TIMEOUT)}",
    ]
    probe += [f"{admin}@{target.address}", "sudo -n true"]
    if subprocess.run(probe, capture_output=True, stdin=subprocess.DEVNULL).returncode == 0:
        return admin
    return target.variables["bootstrap_user"]


def run(
    found: list[Target], dry: bool = False, diff: bool = False, verbosity: int = 0
) -> RunResult:
    """Run provision/engines/pyinfra/site.py on `found` through the pyinfra CLI; logs stream to stderr."""
    with tempfile.TemporaryDirectory(prefix="eyeshots-pyinfra-") as scratch:
        inventory_file = Path(scratch) / "inventory.py"
        inventory_file.write_text(_inventory_source(found))
        command = [sys.executable, "-m", "pyinfra", str(inventory_file), str(DEPLOY_FILE), "--json"]
        command += ["--dry"] if dry else ["-y"]
        if diff or dry:
            command.append("--diff")
        if verbosity:
            command.append("-" + "v" * min(verbosity, 3))
        started = time.monotonic()
        env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
        process = subprocess.run(
            command, stdout=subprocess.PIPE, text=True, env=env, cwd=PROJECT_ROOT
        )
        result = _summarise(process.stdout, dry)
        result.seconds = round(time.monotonic() - started, 1)
        result.exit_code = process.returncode
        if process.returncode != 0 and not result.errors:
            result.errors.append(f"pyinfra exited with code {process.returncode}")
        return result


def _inventory_source(found: list[Target]) -> str:
    hosts = [(t.name, t.pyinfra_data()) for t in found]
    return (
        "# Generated by eyeshots from an Ansible-format inventory; do not edit.\n"
        "import json\n\n"
        f"eyeshots = [tuple(h) for h in json.loads({json.dumps(json.dumps(hosts))})]\n"
    )


def _summarise(stdout: str, dry: bool) -> RunResult:
    result = RunResult()
    try:
        payload = json.loads(stdout) if stdout.strip() else {}
    except json.JSONDecodeError:
        result.errors.append("pyinfra printed no JSON results (see the log above)")
        return result
    if dry:
        conditional = []
        for op in payload.get("plan", []):
            if op["hosts_with_change"]:
                result.changed.append(f"{op['name']} ({', '.join(op['hosts_with_change'])})")
            elif op["hosts_with_conditional_change"]:
                # handlers such as "reload on new config": they run only if their trigger changes
                conditional.append(f"{op['name']} (if triggered)")
            else:
                result.unchanged += 1
        if result.changed:
            result.changed += conditional
        else:
            result.unchanged += len(conditional)
        return result
    for op in (payload.get("results") or {}).get("operations", []):
        if op["success"]:
            result.changed.append(f"{op['name']} ({', '.join(op['success'])})")
        result.unchanged += len(op["no_change"])
        result.errors += [f"{op['name']} failed on {host}" for host in op["error"]]
    return result
