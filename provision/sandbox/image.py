"""The cached debootstrap image every sandbox machine is overlaid on.

Built once per suite and architecture, then only read: machines write into their own overlay
upper directory, so they never share state and the image never drifts.
"""

from __future__ import annotations

import fcntl
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from provision.errors import OperatorError
from provision.paths import cache_dir

DEFAULT_SUITE = "bookworm"
DEBIAN_SUITES = ("bookworm", "trixie")
UBUNTU_SUITES = ("noble", "jammy")
# The suites a sandbox is known to provision on: Debian 12/13, Ubuntu 24.04/22.04.
SUITES = DEBIAN_SUITES + UBUNTU_SUITES
DEBIAN_MIRROR = "http://deb.debian.org/debian"
UBUNTU_MIRROR = "http://archive.ubuntu.com/ubuntu"
# What a fresh VPS image has and what pyinfra needs to manage it over SSH.
PACKAGES = (
    "systemd",
    "systemd-sysv",
    "dbus",
    "openssh-server",
    "iproute2",
    "python3",
    "sudo",
    "ca-certificates",
)


def default_mirror(suite: str) -> str:
    return UBUNTU_MIRROR if suite in UBUNTU_SUITES else DEBIAN_MIRROR


def sources_list(suite: str, mirror: str) -> str:
    """The image's apt sources: release, updates and security, as a VPS image of that suite has.

    Ubuntu serves security updates from the same archive (a `-security` pocket, universe beside
    main); Debian from a separate debian-security archive.
    """
    if suite in UBUNTU_SUITES:
        lines = [
            f"deb {mirror} {suite}{pocket} main universe"
            for pocket in ("", "-updates", "-security")
        ]
    else:
        security = mirror.rstrip("/").removesuffix("/debian") + "/debian-security"
        lines = [
            f"deb {mirror} {suite} main",
            f"deb {mirror} {suite}-updates main",
            f"deb {security} {suite}-security main",
        ]
    return "\n".join(lines) + "\n"


def _arch() -> str:
    machine = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def image_dir(suite: str) -> Path:
    return cache_dir() / "images" / f"{suite}-{_arch()}"


def check_suite(suite: str) -> None:
    if suite not in SUITES:
        raise OperatorError(f"unknown suite {suite!r}: use one of {', '.join(SUITES)}")


def check_can_build(suite: str) -> None:
    """Fail before anything is created when the image must be built and cannot be."""
    check_suite(suite)
    if not (image_dir(suite) / "image.json").is_file() and shutil.which("debootstrap") is None:
        raise OperatorError(
            "debootstrap is not installed; install it with `apt-get install debootstrap`"
        )


def ensure_image(suite: str = DEFAULT_SUITE, mirror: str | None = None) -> Path:
    """The root filesystem of the cached image for `suite`, built first if there is none."""
    directory = image_dir(suite)
    directory.parent.mkdir(parents=True, exist_ok=True)
    with open(directory.parent / ".lock", "w") as lock:
        # Two `up`s racing on a cold cache must not both debootstrap into the same place.
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (directory / "image.json").is_file():
            _build(suite, mirror or default_mirror(suite), directory)
        return directory / "rootfs"


def _build(suite: str, mirror: str, directory: Path) -> None:
    check_can_build(suite)
    scratch = directory.with_name(directory.name + f".building-{os.getpid()}")
    shutil.rmtree(scratch, ignore_errors=True)
    rootfs = scratch / "rootfs"
    rootfs.mkdir(parents=True)
    log_path = scratch / "debootstrap.log"
    started = time.monotonic()
    print(f"Building the {suite} image once (cached in {directory}) ...", file=sys.stderr)
    try:
        _debootstrap(suite, mirror, rootfs, log_path)
        _finish_rootfs(suite, mirror, rootfs)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    seconds = round(time.monotonic() - started, 1)
    (scratch / "image.json").write_text(
        json.dumps({"suite": suite, "mirror": mirror, "build_seconds": seconds}) + "\n"
    )
    shutil.rmtree(directory, ignore_errors=True)
    scratch.rename(directory)
    print(f"Image built in {seconds} s", file=sys.stderr)


def _debootstrap(suite: str, mirror: str, rootfs: Path, log_path: Path) -> None:
    command = [
        "debootstrap",
        "--variant=minbase",
        f"--include={','.join(PACKAGES)}",
        suite,
        str(rootfs),
        mirror,
    ]
    retrieved = 0
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert process.stdout is not None
        for line in process.stdout:
            log.write(line)
            if line.startswith("I: Retrieving") or line.startswith("I: Unpacking"):
                retrieved += 1
                if retrieved % 25 == 0:
                    print(f"  debootstrap: {line[3:].strip()}", file=sys.stderr)
        code = process.wait()
    if code != 0:
        tail = log_path.read_text().strip().splitlines()[-1:] or ["no output"]
        raise OperatorError(
            f"debootstrap {suite} from {mirror} failed: {tail[0]} (log: {log_path})"
        )


def _finish_rootfs(suite: str, mirror: str, rootfs: Path) -> None:
    """Make the tree a clean template: per-machine identity is created at `up`, not here."""
    for key in (rootfs / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    (rootfs / "etc/machine-id").write_text("")
    (rootfs / "etc/hostname").unlink(missing_ok=True)
    (rootfs / "etc/apt/sources.list").write_text(sources_list(suite, mirror))
    subprocess.run(["chroot", str(rootfs), "apt-get", "clean"], check=True)
