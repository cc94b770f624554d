"""Building a release on the operator's machine: the project's wheel plus a wheelhouse of its
locked dependencies for the server's Python and CPU, so the server never needs PyPI."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from provision.errors import OperatorError
from provision.paths import PROJECT_ROOT, cache_dir


@dataclass(frozen=True)
class Platform:
    """What a server can install: its CPython version, CPU and glibc."""

    python: str  # "3.11"
    machine: str  # "x86_64"
    glibc: str  # "2.36"

    @property
    def tag(self) -> str:
        return f"cp{self.python.replace('.', '')}-{self.machine}-glibc{self.glibc}"

    def pip_platforms(self) -> list[str]:
        """Every manylinux tag the server's glibc accepts (pip wants them listed)."""
        major, minor = (int(part) for part in self.glibc.split("."))
        tags = [f"manylinux_{major}_{m}_{self.machine}" for m in range(minor, 4, -1)]
        legacy = {"manylinux2014": 17, "manylinux2010": 12, "manylinux1": 5}
        tags += [f"{name}_{self.machine}" for name, needs in legacy.items() if minor >= needs]
        return tags


@dataclass(frozen=True)
class Build:
    version: str
    directory: Path  # wheel + requirements.txt
    wheel: Path
    requirements: Path
    wheelhouse: Path  # dependency wheels, shared by builds with the same lock and platform


def new_version(source: Path = PROJECT_ROOT) -> str:
    """UTC time plus the commit: sortable, readable in `systemctl`, valid as a unit instance."""
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())
    try:
        commit = _run(["git", "-C", str(source), "rev-parse", "--short=7", "HEAD"], source)
        dirty = _run(["git", "-C", str(source), "status", "--porcelain"], source)
    except OperatorError:
        return f"{stamp}-nogit"
    return f"{stamp}-{commit.strip()}{'-dirty' if dirty.strip() else ''}"


def build(platform: Platform, source: Path = PROJECT_ROOT, version: str | None = None) -> Build:
    """Build the project's wheel from `source` and fetch (or reuse) its wheelhouse."""
    version = version or new_version(source)
    directory = cache_dir() / "releases" / version
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    _run(["uv", "build", "--wheel", "--quiet", "--out-dir", str(directory)], source)
    wheels = sorted(directory.glob("*.whl"))
    if len(wheels) != 1:
        raise OperatorError(f"`uv build` in {source} made {len(wheels)} wheels, expected one")
    requirements = directory / "requirements.txt"
    exported = _run(
        [
            "uv",
            "export",
            "--frozen",
            "--no-dev",
            "--no-hashes",
            "--no-emit-project",
            "--no-header",
            "--format",
            "requirements-txt",
        ],
        source,
    )
    requirements.write_text(exported)
    wheelhouse = _wheelhouse(requirements, platform, source)
    return Build(version, directory, wheels[0], requirements, wheelhouse)


def _wheelhouse(requirements: Path, platform: Platform, source: Path) -> Path:
    """Download every locked dependency as a wheel for `platform`; cached by lock + platform."""
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]
    wheelhouse = cache_dir() / "wheelhouse" / f"{platform.tag}-{digest}"
    if (wheelhouse / ".complete").exists():
        return wheelhouse
    scratch = Path(tempfile.mkdtemp(prefix=".wheelhouse-", dir=wheelhouse.parent.parent))
    command = ["uv", "tool", "run", "pip", "download", "--quiet", "--only-binary=:all:"]
    command += ["--python-version", platform.python, "--implementation", "cp"]
    for tag in platform.pip_platforms():
        command += ["--platform", tag]
    command += ["--requirement", str(requirements), "--dest", str(scratch)]
    try:
        _run(command, source, what="fetching the dependency wheels for the server")
        (scratch / ".complete").touch()
        wheelhouse.parent.mkdir(parents=True, exist_ok=True)
        if wheelhouse.exists():
            shutil.rmtree(wheelhouse)
        scratch.rename(wheelhouse)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return wheelhouse


def _run(command: list[str], cwd: Path, what: str | None = None) -> str:
    try:
        result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    except FileNotFoundError:
        raise OperatorError(
            f"`{command[0]}` is not installed; run `bash provision/setup.sh` first"
        ) from None
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines() or [
            f"exit {result.returncode}"
        ]
        doing = what or f"`{' '.join(command[:3])}`"
        raise OperatorError(f"{doing} failed: {lines[-1]}")
    return result.stdout
