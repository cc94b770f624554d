"""Building a release on the operator's machine: the project's wheel plus a wheelhouse of its
locked dependencies for the server's Python and CPU, so the server never needs PyPI.

The release's requirements carry uv.lock's hashes (and the project wheel's own), and the server
installs with `pip --require-hashes`: a wheel that differs from the lock is refused. The
operator's extra (pyinfra, ...) is not part of a release."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from provision.errors import OperatorError
from provision.paths import PROJECT_ROOT, cache_dir
from provision.shell import run


@dataclass(frozen=True)
class WheelTarget:
    """The interpreter a release's wheels are chosen for: a server's CPython version, CPU and
    glibc (read from the server by `ship.probe`)."""

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
    requirements: Path  # every locked dependency and the project wheel, with their hashes
    wheelhouse: Path  # dependency wheels, shared by builds with the same lock and target


def new_version(source: Path = PROJECT_ROOT) -> str:
    """UTC time plus the commit: sortable, readable in `systemctl`, valid as a unit instance."""
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())
    try:
        commit = run(["git", "-C", str(source), "rev-parse", "--short=7", "HEAD"], cwd=source)
        dirty = run(["git", "-C", str(source), "status", "--porcelain"], cwd=source)
    except OperatorError:
        return f"{stamp}-nogit"
    return f"{stamp}-{commit.strip()}{'-dirty' if dirty.strip() else ''}"


def build(target: WheelTarget, source: Path = PROJECT_ROOT, version: str | None = None) -> Build:
    """Build the project's wheel from `source` and fetch (or reuse) its wheelhouse."""
    version = version or new_version(source)
    directory = cache_dir() / "releases" / version
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    run(["uv", "build", "--wheel", "--quiet", "--out-dir", str(directory)], cwd=source)
    wheels = sorted(directory.glob("*.whl"))
    if len(wheels) != 1:
        raise OperatorError(f"`uv build` in {source} made {len(wheels)} wheels, expected one")
    locked = run(
        ["uv", "export", "--frozen", "--no-dev", "--no-emit-project", "--no-header",
         "--format", "requirements-txt"],
        cwd=source,
    )  # fmt: skip
    wheelhouse = _wheelhouse(locked, target, source)
    # pip reads the project wheel from the directory it runs in (the release's dist/)
    wheel_hash = hashlib.sha256(wheels[0].read_bytes()).hexdigest()
    requirements = directory / "requirements.txt"
    requirements.write_text(f"{locked}./{wheels[0].name} --hash=sha256:{wheel_hash}\n")
    return Build(version, directory, wheels[0], requirements, wheelhouse)


def _wheelhouse(locked: str, target: WheelTarget, source: Path) -> Path:
    """Download every locked dependency as a wheel for `target`; cached by lock + target."""
    digest = hashlib.sha256(locked.encode()).hexdigest()[:16]
    wheelhouse = cache_dir() / "wheelhouse" / f"{target.tag}-{digest}"
    if (wheelhouse / ".complete").exists():
        return wheelhouse
    scratch = Path(tempfile.mkdtemp(prefix=".wheelhouse-", dir=wheelhouse.parent.parent))
    command = ["uv", "tool", "run", "pip", "download", "--quiet", "--only-binary=:all:"]
    command += ["--python-version", target.python, "--implementation", "cp"]
    for tag in target.pip_platforms():
        command += ["--platform", tag]
    command += ["--require-hashes", "--requirement", str(scratch / "requirements.txt")]
    command += ["--dest", str(scratch)]
    try:
        (scratch / "requirements.txt").write_text(locked)
        run(command, cwd=source, what="fetching the dependency wheels for the server")
        (scratch / "requirements.txt").unlink()
        (scratch / ".complete").touch()
        wheelhouse.parent.mkdir(parents=True, exist_ok=True)
        if wheelhouse.exists():
            shutil.rmtree(wheelhouse)
        scratch.rename(wheelhouse)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return wheelhouse
