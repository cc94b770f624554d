"""The Ansible engine: `ansible-playbook site.yml` over the inventory itself (Ansible resolves
the variables, from the same roles/ and inventories/), with connection details and the engine's
additions layered on as a second inventory source; a summary read from its output."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from provision.paths import PROJECT_ROOT
from provision.runner import RunResult, Target
from provision.vendored_collections import install_collections

SITE = PROJECT_ROOT / "site.yml"
# variables runner.engine_vars adds on top of the inventory's (the operator's key, a sandbox gateway)
ENGINE_ADDED = ("admin_authorized_keys", "trusted_admin_sources")
_TASK = re.compile(r"^(?:TASK|RUNNING HANDLER) \[(.*?)\]")
_CHANGED = re.compile(r"^changed: \[([^\]]+)\]")
_FAILED = re.compile(r"^(?:fatal|failed): \[([^\]]+)\]")
_RECAP = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")


def _connection(target: Target) -> dict[str, object]:
    options = ["-o IdentitiesOnly=yes"]
    if target.known_hosts:
        options += [f"-o UserKnownHostsFile={target.known_hosts}", "-o StrictHostKeyChecking=yes"]
    return {
        "ansible_host": target.address,
        "ansible_port": target.port,
        "ansible_user": target.user,
        "ansible_ssh_private_key_file": str(target.key),
        "ansible_ssh_common_args": " ".join(options),
        "ansible_python_interpreter": "/usr/bin/python3",
        **{name: target.variables[name] for name in ENGINE_ADDED},
    }


def run(
    found: list[Target],
    inventory: Path,
    dry: bool = False,
    diff: bool = False,
    verbosity: int = 0,
) -> RunResult:
    """Run site.yml on `found`; Ansible's log streams to stderr."""
    install_collections()
    with tempfile.TemporaryDirectory(prefix="eyeshots-ansible-") as scratch:
        layer = Path(scratch)
        (layer / "hosts.yml").write_text(
            yaml.safe_dump({"all": {"hosts": {t.name: None for t in found}}})
        )
        (layer / "host_vars").mkdir()
        for target in found:
            (layer / "host_vars" / f"{target.name}.yml").write_text(
                yaml.safe_dump(_connection(target))
            )
        command = [sys.executable, "-m", "ansible", "playbook", "-i", str(inventory),
                   "-i", str(layer), str(SITE), "--limit", ",".join(t.name for t in found)]  # fmt: skip
        command += ["--check"] if dry else []
        command += ["--diff"] if diff or dry else []
        command += ["-" + "v" * min(verbosity, 4)] if verbosity else []
        env = {**os.environ, "ANSIBLE_CONFIG": str(PROJECT_ROOT / "ansible.cfg"),
               "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_NOCOLOR": "1"}  # fmt: skip
        started = time.monotonic()
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, text=True, env=env, cwd=PROJECT_ROOT
        )
        result = _summarise(process.stdout or [])
        result.exit_code = process.wait()
        result.seconds = round(time.monotonic() - started, 1)
        if result.exit_code != 0 and not result.errors:
            result.errors.append(f"ansible-playbook exited with code {result.exit_code}")
        return result


def _summarise(lines: object) -> RunResult:
    result, task = RunResult(), ""
    for line in lines:  # type: ignore[attr-defined]
        sys.stderr.write(line)
        if match := _TASK.match(line):
            task = match.group(1)
        elif (match := _CHANGED.match(line)) and f"{task} ({match.group(1)})" not in result.changed:
            result.changed.append(f"{task} ({match.group(1)})")
        elif match := _FAILED.match(line):
            result.errors.append(f"{task} failed on {match.group(1)}")
        elif match := _RECAP.match(line):
            ok, changed = int(match.group(2)), int(match.group(3))
            result.unchanged += ok - changed
    return result
