"""Parity: two fresh sandbox machines provisioned from the same inventory, each by the engine
ENGINES names for it, end up in the same managed state (tests/verify/snapshot.py: files,
units, UFW rules, sysctls, sockets), a second run of each engine changes nothing, and the
verification suite passes on both. One changed file mode on one machine is then exactly the
difference the snapshots show."""

from __future__ import annotations

import pytest
import yaml
from eyeshots_cli import eyeshots
from sandboxes import boot, destroy, machine_name, provision

from tests.verify import snapshot
from tests.verify import suite as verification_suite

# The engine that provisions each machine. The second becomes "ansible" once
# `eyeshots provision --engine ansible` exists.
ENGINES = {"tparitya": "pyinfra", "tparityb": "pyinfra"}
GROUP_VARS = {"eyeshots_domain": "parity.eyeshots.test"}


def engine_options(engine: str) -> list[str]:
    return [] if engine == "pyinfra" else ["--engine", engine]


def provision_all(inventory: str) -> list[int]:
    """Provision every machine with its engine: one run when a single engine does them all
    (pyinfra works on both hosts at once), else one run per host. Returns changes per run."""
    engines = set(ENGINES.values())
    if len(engines) == 1:
        return [provision(inventory, *engine_options(engines.pop()))[0]]
    return [
        provision(inventory, "--limit", name, *engine_options(engine))[0]
        for name, engine in ENGINES.items()
    ]


@pytest.fixture(scope="module")
def inventory(tmp_path_factory):
    directory = tmp_path_factory.mktemp("inventory")
    (directory / "group_vars").mkdir()
    hosts = {name: {"eyeshots_sandbox": machine_name(name)} for name in ENGINES}
    (directory / "hosts.yml").write_text(
        yaml.safe_dump({"all": {"children": {"eyeshots": {"hosts": hosts}}}})
    )
    (directory / "group_vars" / "all.yml").write_text(yaml.safe_dump(GROUP_VARS))
    try:
        for name in ENGINES:
            boot(name)
        assert all(changed > 0 for changed in provision_all(str(directory)))
        # a second run of each engine changes nothing, by the engine's own count
        second = provision_all(str(directory))
        assert second == [0] * len(second)
        yield str(directory)
    finally:
        for name in ENGINES:
            destroy(name)


@pytest.fixture(scope="module")
def snapshots(inventory):
    return snapshot.snapshot_hosts(inventory, list(ENGINES))


def test_both_engines_leave_the_same_state(snapshots):
    a, b = (snapshots[name] for name in ENGINES)
    print(
        f"compared {len(a['files'])} paths, {len(a['units'])} units, "
        f"{len(a['sysctl'])} sysctls, {len(a['sockets'])} sockets"
    )
    assert len(a["files"]) > 500 and a["ufw"]["added"] and a["sockets"]
    assert snapshot.diff(a, b, names=tuple(ENGINES)) == []


def test_the_suite_passes_on_both(inventory):
    suite = verification_suite.run(inventory)
    assert suite.returncode == 0, suite.stdout[-6000:]
    print(f"verification suite on {', '.join(ENGINES)}: {verification_suite.summary(suite)}")


def test_one_changed_mode_is_exactly_the_difference(inventory, snapshots):
    first, second = ENGINES
    path = "/etc/ssh/sshd_config"
    kind, owner, group, mode, digest = snapshots[second]["files"][path].split()
    changed_mode = f"{int(mode, 8) ^ 0o040:04o}"  # group read toggled
    chmod = ["sandbox", "ssh", machine_name(second), "--", "sudo", "-n", "chmod"]
    assert eyeshots(*chmod, changed_mode, path).returncode == 0
    try:
        after = snapshot.snapshot_hosts(inventory, [second])[second]
        assert snapshot.diff(snapshots[first], after, names=(first, second)) == [
            f"files: {path}: {first} '{kind} {owner} {group} {mode} {digest}' != "
            f"{second} '{kind} {owner} {group} {changed_mode} {digest}'"
        ]
    finally:
        assert eyeshots(*chmod, mode, path).returncode == 0
