"""The sandbox VPS: boots, networks, isolation, idempotent `up`, and `down` leaving nothing."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from eyeshots_cli import eyeshots
from sandboxes import TEST_SUBNET, Sandbox, destroy, machine_name

from provision.sandbox import network
from provision.sandbox.machine import machines_dir, stale_mounts


def _live_nspawn(name: str) -> list[int]:
    """PIDs of running (not zombie) nspawn processes for machine `name`."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if args and b"systemd-nspawn" in args[0] and f"--machine={name}".encode() in args:
            found.append(int(proc.name))
    return found


def _traces(name: str) -> list[str]:
    traces = [f"process {pid}" for pid in _live_nspawn(name)]
    bridge = network.bridge_name(network.parse_subnet(TEST_SUBNET))
    traces += [t for t in network.leftovers() if name in t or bridge in t or TEST_SUBNET in t]
    traces += [m for m in stale_mounts() if f"/{name}/" in m]
    if (machines_dir() / name).exists():
        traces.append(f"directory {machines_dir() / name}")
    return traces


def test_two_machines_boot_isolated_and_down_leaves_nothing(sandbox_factory):
    one = sandbox_factory(machine_name("tsbx-one"))
    two = sandbox_factory(machine_name("tsbx-two"))
    print(f"boot to sshd: {one.machine.boot_seconds} s and {two.machine.boot_seconds} s")

    # Distinct identities and addresses, both reachable over SSH with the operator's key.
    assert one.machine.address != two.machine.address
    assert one.ssh("hostname").stdout.strip() == machine_name("tsbx-one")
    assert two.ssh("hostname").stdout.strip() == machine_name("tsbx-two")
    assert one.ssh("cat /etc/machine-id").stdout != two.ssh("cat /etc/machine-id").stdout

    # systemd is PID 1 and the machine reaches "running" like a VPS.
    assert one.ssh("ps -o comm= -p 1").stdout.strip() == "systemd"
    state = one.ssh("systemctl is-system-running --wait", check=False).stdout.strip()
    assert state in ("running", "degraded"), state

    # Disks are not shared: a file written on one machine is absent on the other.
    one.ssh("echo only-here > /root/marker")
    assert two.ssh("test -e /root/marker", check=False).returncode != 0

    # Machines see each other on the private network (an SFTP backup target needs this).
    assert (
        one.ssh(
            f"timeout 5 bash -c 'exec 3<>/dev/tcp/{two.machine.address}/22'", check=False
        ).returncode
        == 0
    )

    # DNS and outbound NAT work: apt can reach Debian's archive.
    assert one.ssh("getent hosts deb.debian.org").stdout.strip()
    one.ssh("apt-get update -q")

    status = one.status()
    assert status["state"] == "running" and status["address"] == one.machine.address
    assert status["uptime_seconds"] >= 0 and status["boot_seconds"] > 0

    listing = json.loads(eyeshots("sandbox", "list", "--json").stdout)
    assert {machine_name("tsbx-one"), machine_name("tsbx-two")} <= {m["name"] for m in listing}

    # `up` on a running machine changes nothing.
    pid = one.machine.nspawn_pid
    again = eyeshots("sandbox", "up", machine_name("tsbx-one"), "--subnet", TEST_SUBNET)
    assert again.returncode == 0 and "already running" in again.stdout
    assert one.machine.nspawn_pid == pid

    # Down one: its traces go, the other keeps running with its network.
    destroy(machine_name("tsbx-one"))
    assert [t for t in _traces(machine_name("tsbx-one")) if machine_name("tsbx-one") in t] == []
    assert two.ssh("true").returncode == 0
    destroy(machine_name("tsbx-two"))
    assert _traces(machine_name("tsbx-one")) == [] and _traces(machine_name("tsbx-two")) == []


def test_stopped_machine_keeps_its_disk_and_boots_again(sandbox_factory):
    box = sandbox_factory(machine_name("tsbx-keep"))
    box.ssh("echo kept > /root/marker")
    box.ssh("systemctl poweroff", check=False)
    # `status` reports the machine stopped once nspawn has exited.
    deadline = time.monotonic() + 30
    while box.status()["state"] != "stopped":
        assert time.monotonic() < deadline, "machine did not power off"
        time.sleep(0.1)
    again = eyeshots("sandbox", "up", machine_name("tsbx-keep"), "--subnet", TEST_SUBNET)
    assert again.returncode == 0, again.stderr
    assert box.ssh("cat /root/marker").stdout.strip() == "kept"


def test_down_of_unknown_machine_is_harmless():
    result = eyeshots("sandbox", "down", machine_name("tsbx-ghost"))
    assert result.returncode == 0 and "nothing to do" in result.stdout


def test_parallel_ups_do_not_collide():
    """Two operators' `up`s at the same moment: the lock serialises address allocation and the
    bridge's lifecycle, so both machines come up with their own address."""
    names = (machine_name("tsbx-par1"), machine_name("tsbx-par2"))
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "provision", "sandbox", "up", name, "--subnet", TEST_SUBNET],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in names
    ]
    try:
        for process in processes:
            _, stderr = process.communicate(timeout=300)
            assert process.returncode == 0, stderr
        addresses = {Sandbox(name, "").machine.address for name in names}
        assert len(addresses) == 2
        for name in names:
            assert Sandbox(name, "").ssh("hostname").stdout.strip() == name
    finally:
        for name in names:
            destroy(name)
    assert all(_traces(name) == [] for name in names)
