"""Sandbox machines: boot, inspect and remove Debian/Ubuntu systems run by systemd-nspawn.

A machine is a folder under the state dir (overlay upper/work, mountpoint, console log,
machine.json) plus its network namespace. `up` either completes or removes what it made.
"""

from __future__ import annotations

import fcntl
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from provision.errors import OperatorError
from provision.paths import state_dir
from provision.sandbox import aptcache, network
from provision.sandbox.image import DEFAULT_SUITE, check_can_build, ensure_image
from provision.shell import run
from provision.sshkeys import operator_key

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
# `es-` + name must fit Linux's 15-character interface names.
MAX_NAME = 12
REQUIRED_TOOLS = {
    "systemd-nspawn": "systemd-container",
    "ip": "iproute2",
    "iptables": "iptables",
    "ssh-keygen": "openssh-client",
    "ssh": "openssh-client",
}
BOOT_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


@dataclass
class Machine:
    name: str
    suite: str
    subnet: str
    address: str
    nspawn_pid: int = 0
    started_at: float = 0.0
    boot_seconds: float = 0.0
    # Who `sandbox ssh` logs in as: root until provisioning made an admin user (and root
    # logins are refused from then on).
    login_user: str = "root"

    @property
    def directory(self) -> Path:
        return machines_dir() / self.name

    @property
    def root(self) -> Path:
        return self.directory / "root"

    @property
    def known_hosts(self) -> Path:
        return self.directory / "known_hosts"

    def gateway(self) -> str:
        """The host's address on the machine's network: where the machine sees the operator."""
        return str(network.gateway(ipaddress.IPv4Network(self.subnet)))

    def is_running(self) -> bool:
        return _is_our_nspawn(self.nspawn_pid, self.name)

    def save(self) -> None:
        (self.directory / "machine.json").write_text(json.dumps(asdict(self), indent=2) + "\n")


def machines_dir() -> Path:
    return state_dir() / "sandbox" / "machines"


def validate_name(name: str) -> None:
    if len(name) > MAX_NAME or not NAME_PATTERN.match(name):
        raise OperatorError(
            f"invalid machine name {name!r}: use 1-{MAX_NAME} lowercase letters, digits and "
            "inner hyphens, starting with a letter (e.g. eyeshots)"
        )


def preflight() -> None:
    """Everything `up` needs from the host, checked before anything is created."""
    if os.geteuid() != 0:
        raise OperatorError(
            "the sandbox needs root (nspawn, network namespaces, NAT): run it with sudo"
        )
    for tool, package in REQUIRED_TOOLS.items():
        if shutil.which(tool) is None:
            raise OperatorError(
                f"{tool} is not installed; install it with `apt-get install {package}`"
            )


@contextmanager
def _locked() -> Iterator[Path]:
    """Serialise machine and network changes: address allocation and bridge lifecycle race otherwise."""
    directory = state_dir() / "sandbox"
    machines_dir().mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield directory


def load(name: str) -> Machine | None:
    path = machines_dir() / name / "machine.json"
    if not path.is_file():
        return None
    known = {f.name for f in fields(Machine)}
    # Ignore keys another eyeshots version wrote: the machine is still usable.
    return Machine(**{k: v for k, v in json.loads(path.read_text()).items() if k in known})


def all_machines() -> list[Machine]:
    if not machines_dir().is_dir():
        return []
    found = (load(entry.name) for entry in sorted(machines_dir().iterdir()))
    return [machine for machine in found if machine is not None]


def require(name: str) -> Machine:
    validate_name(name)
    machine = load(name)
    if machine is None:
        raise OperatorError(
            f"no sandbox machine named {name!r}; start it with `eyeshots sandbox up {name}`"
        )
    return machine


def up(
    name: str,
    suite: str = DEFAULT_SUITE,
    mirror: str | None = None,
    subnet: str | None = None,
) -> tuple[Machine, bool]:
    """Boot `name` (building the image if needed); returns the machine and whether it was started."""
    validate_name(name)
    preflight()
    net = network.parse_subnet(subnet or network.default_subnet())
    check_can_build(suite)
    existing = load(name)
    if existing and existing.is_running():
        return existing, False
    key = operator_key()
    rootfs = ensure_image(suite, mirror)
    with _locked() as sandbox_state:
        if existing is None:
            taken = {m.address for m in all_machines() if m.subnet == str(net)}
            machine = Machine(name, suite, str(net), network.allocate_address(net, taken))
        else:
            # A stopped machine keeps its disk, like a VPS after a host reboot; its network
            # namespace outlived its processes and is made anew.
            machine = existing
            net = ipaddress.IPv4Network(machine.subnet)
            network.detach_machine(name)
        try:
            _create_disk(machine, rootfs, key.public_text())
            network.ensure_bridge(net, sandbox_state)
            network.attach_machine(name, net, machine.address)
            _boot(machine)
        except BaseException:
            _teardown(machine, sandbox_state, keep_disk=existing is not None)
            raise
    return machine, True


def _create_disk(machine: Machine, lower: Path, authorized_key: str) -> None:
    first_boot = not (machine.directory / "upper").exists()
    for sub in ("upper", "work", "root"):
        (machine.directory / sub).mkdir(parents=True, exist_ok=True)
    machine.save()
    if not os.path.ismount(machine.root):
        options = f"lowerdir={lower},upperdir={machine.directory / 'upper'},workdir={machine.directory / 'work'}"
        run(["mount", "-t", "overlay", "overlay", "-o", options, str(machine.root)])
    if first_boot:
        _write_identity(machine, authorized_key)


def _write_identity(machine: Machine, authorized_key: str) -> None:
    root = machine.root
    (root / "etc/hostname").write_text(machine.name + "\n")
    # Every machine its own identity (journal, D-Bus, DHCP client ids key off it).
    (root / "etc/machine-id").write_text(uuid.uuid4().hex + "\n")
    run(["ssh-keygen", "-A", "-f", str(root)])
    ssh_dir = root / "root/.ssh"
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    (ssh_dir / "authorized_keys").write_text(authorized_key + "\n")
    (ssh_dir / "authorized_keys").chmod(0o600)
    (root / "etc/resolv.conf").unlink(missing_ok=True)
    (root / "etc/resolv.conf").write_text(_host_nameservers())
    # The host made these keys, so the operator can verify the machine from the first connection.
    entries = []
    for public in sorted((root / "etc/ssh").glob("ssh_host_*_key.pub")):
        kind, blob = public.read_text().split()[:2]
        entries.append(f"{machine.address} {kind} {blob}")
    machine.known_hosts.write_text("\n".join(entries) + "\n")


def _host_nameservers() -> str:
    """The host's resolvers, skipping a loopback stub the machine could not reach."""
    for candidate in (Path("/etc/resolv.conf"), Path("/run/systemd/resolve/resolv.conf")):
        if not candidate.is_file():
            continue
        servers = [
            line.split()[1]
            for line in candidate.read_text().splitlines()
            if line.startswith("nameserver") and len(line.split()) > 1
        ]
        usable = [s for s in servers if not ipaddress.ip_address(s).is_loopback]
        if usable:
            return "".join(f"nameserver {s}\n" for s in usable)
    raise OperatorError(
        "no usable nameserver in /etc/resolv.conf for the sandbox; configure the host's DNS"
    )


def _boot(machine: Machine) -> None:
    archives = aptcache.seed(machine.directory / "apt-archives")
    command = [
        "systemd-nspawn",
        "--quiet",
        f"--directory={machine.root}",
        f"--machine={machine.name}",
        "--boot",
        # The host may not run systemd: nothing to register with, no scope to create.
        "--register=no",
        "--keep-unit",
        "--console=passive",
        "--resolv-conf=off",
        f"--network-namespace-path=/run/netns/{network.netns_name(machine.name)}",
        # Marks that namespace private: the machine gets CAP_NET_ADMIN for its own firewall and a
        # writable /proc/sys/net for its own sysctls, both confined to its namespace.
        "--private-network",
        # Its own archive folder seeded from the shared cache: machines download each package
        # once per host, and two machines installing at once do not meet on apt's lock.
        f"--bind={archives}:/var/cache/apt/archives",
    ]
    console = open(machine.directory / "console.log", "ab")
    started = time.monotonic()
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=console, stderr=console, start_new_session=True
    )
    console.close()
    machine.nspawn_pid = process.pid
    machine.started_at = time.time()
    machine.save()
    deadline = started + BOOT_TIMEOUT
    while not _sshd_answers(machine.address):
        if process.poll() is not None:
            raise OperatorError(
                f"machine {machine.name} stopped while booting (exit {process.returncode}); "
                f"see {machine.directory / 'console.log'}"
            )
        if time.monotonic() > deadline:
            raise OperatorError(
                f"machine {machine.name}: sshd did not answer within {BOOT_TIMEOUT:.0f} s; "
                f"see {machine.directory / 'console.log'}"
            )
        time.sleep(0.05)
    machine.boot_seconds = round(time.monotonic() - started, 2)
    machine.save()


def _sshd_answers(address: str) -> bool:
    try:
        with socket.create_connection((address, 22), timeout=0.5) as connection:
            connection.settimeout(2)
            return connection.recv(8).startswith(b"SSH-")
    except OSError:
        return False


def _is_our_nspawn(pid: int, name: str) -> bool:
    if pid <= 0:
        return False
    try:
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"systemd-nspawn" in arguments[0] and f"--machine={name}".encode() in arguments


def _container_init(nspawn_pid: int) -> int | None:
    for children in Path(f"/proc/{nspawn_pid}/task").glob("*/children"):
        pids = children.read_text().split()
        if pids:
            return int(pids[0])
    return None


def down(name: str) -> bool:
    """Power the machine off and remove every trace of it; False if there was nothing to remove."""
    validate_name(name)
    preflight()
    machine = load(name)
    with _locked() as sandbox_state:
        if machine is None:
            if (machines_dir() / name).exists() or network.netns_name(name) in run(
                ["ip", "netns", "list"]
            ):
                _teardown(Machine(name, "", "", ""), sandbox_state, keep_disk=False)
                return True
            return False
        _teardown(machine, sandbox_state, keep_disk=False)
    return True


def _teardown(machine: Machine, sandbox_state: Path, keep_disk: bool) -> None:
    _stop(machine)
    if machine.root.exists() and os.path.ismount(machine.root):
        run(["umount", "--recursive", str(machine.root)])
    network.detach_machine(machine.name)
    if not keep_disk:
        aptcache.publish(machine.directory / "apt-archives")
        shutil.rmtree(machine.directory, ignore_errors=True)
    if machine.subnet and not any(
        m.subnet == machine.subnet for m in all_machines() if m.name != machine.name
    ):
        network.remove_bridge(ipaddress.IPv4Network(machine.subnet), sandbox_state)


def _stop(machine: Machine) -> None:
    if not machine.is_running():
        return
    init = _container_init(machine.nspawn_pid)
    if init is not None:
        # SIGRTMIN+4 asks the machine's systemd for a clean poweroff.
        os.kill(init, signal.SIGRTMIN + 4)
    deadline = time.monotonic() + STOP_TIMEOUT
    while _is_our_nspawn(machine.nspawn_pid, machine.name) and time.monotonic() < deadline:
        _reap(machine.nspawn_pid)
        time.sleep(0.05)
    if _is_our_nspawn(machine.nspawn_pid, machine.name):
        # Killing the container's init takes its whole PID namespace with it.
        if init is not None:
            os.kill(init, signal.SIGKILL)
        os.kill(machine.nspawn_pid, signal.SIGKILL)
        while _is_our_nspawn(machine.nspawn_pid, machine.name):
            _reap(machine.nspawn_pid)
            time.sleep(0.05)


def _reap(pid: int) -> None:
    """Collect nspawn's exit status when it is our own child, so it does not linger as a zombie."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def uptime(machine: Machine) -> float:
    return time.time() - machine.started_at if machine.is_running() else 0.0


def stale_mounts() -> list[str]:
    """Mounts under the machines folder (for `down` checks and tests)."""
    prefix = str(machines_dir())
    with open("/proc/self/mounts") as mounts:
        return [line.split()[1] for line in mounts if line.split()[1].startswith(prefix)]
