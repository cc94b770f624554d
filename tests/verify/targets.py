"""The hosts the verification suite checks: an inventory's hosts resolved to how to reach them
(address, port, login user, key, known hosts) and their variables, the expected values.

`resolve` is the one place that reads an inventory; when ansible-core becomes the reader of
inventories for both engines, only its body changes."""

from __future__ import annotations

import subprocess
from pathlib import Path

from provision import runner
from provision.errors import OperatorError

Target = runner.Target


def resolve(inventory_path: str, limit: str | None = None) -> list[Target]:
    """Every host of the inventory (or only `limit`), with its resolved role variables.

    Sandbox hosts (`eyeshots_sandbox: NAME`) get the machine's address and known_hosts filled
    in by the provisioning code itself, so the suite reaches them exactly as `eyeshots
    provision` does. A real host's key must already be in the operator's known_hosts: that is
    checked before anything connects, since the provisioning code would accept a new one."""
    loaded = runner.load(inventory_path)
    for host in loaded.hosts:
        if (limit is None or host.name == limit) and not host.variables.get("eyeshots_sandbox"):
            _require_known_host_key(host.name, host.variables)
    return runner.targets(loaded, limit=limit)


def _require_known_host_key(name: str, variables: dict) -> None:
    # the address and port exactly as provision.runner reaches a non-sandbox host
    address = str(variables.get("ansible_host") or name)
    port = int(variables.get("ansible_port") or 22)
    entry = address if port == 22 else f"[{address}]:{port}"
    known_hosts = Path("~/.ssh/known_hosts").expanduser()
    found = subprocess.run(
        ["ssh-keygen", "-F", entry, "-f", str(known_hosts)], capture_output=True, text=True
    )
    if found.returncode != 0 or not found.stdout.strip():
        raise OperatorError(
            f"host {name} ({entry}) has no key in {known_hosts}: compare "
            f"`ssh-keyscan -p {port} {address} | ssh-keygen -lf -` with the fingerprint your "
            f"provider shows, then append the ssh-keyscan output to {known_hosts}"
        )


def ssh_config(found: list[Target], directory: Path) -> Path:
    """An OpenSSH client config naming every target; host keys are always verified.

    testinfra ignores --ssh-extra-args (pytest-testinfra issue #618), so the only way to pin
    the known_hosts file and strict checking is a config file passed with -F."""
    default_known_hosts = Path("~/.ssh/known_hosts").expanduser()
    blocks = []
    for target in found:
        known_hosts = target.known_hosts or default_known_hosts
        blocks.append(
            f"Host {target.name}\n"
            f"  HostName {target.address}\n"
            f"  Port {target.port}\n"
            f"  User {target.user}\n"
            f"  IdentityFile {target.key}\n"
            "  IdentitiesOnly yes\n"
            f"  UserKnownHostsFile {known_hosts}\n"
            # Never accept an unknown or changed key: a real host's key must be in the
            # operator's known_hosts already (ssh-keyscan it and compare the fingerprint first).
            "  StrictHostKeyChecking yes\n"
            "  BatchMode yes\n"
            f"  ControlPath {directory}/%C\n"
        )
    path = directory / "ssh_config"
    path.write_text("\n".join(blocks))
    return path


def close(found: list[Target], config: Path) -> None:
    """End the shared connections (ControlPersist masters) to the targets."""
    for target in found:
        subprocess.run(
            ["ssh", "-F", str(config), "-O", "exit", target.name],
            capture_output=True,
            stdin=subprocess.DEVNULL,
        )


def hostspec(target: Target) -> str:
    """testinfra's host spec for a target named in the file `ssh_config` writes."""
    if not target.name.replace("-", "").replace(".", "").replace("_", "").isalnum():
        raise OperatorError(f"inventory host name {target.name!r} cannot be used as an ssh alias")
    return f"ssh://{target.name}"
