"""Ad-hoc commands on one inventory host over a shared SSH connection (ControlMaster), for the
imperative steps of a release that a declarative pyinfra run does not fit."""

from __future__ import annotations

import shlex
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

from provision.errors import OperatorError
from provision.runner import Target
from provision.shell import last_line


class Remote:
    def __init__(self, target: Target) -> None:
        self.target = target
        self._control = tempfile.TemporaryDirectory(prefix="eyeshots-ssh-")
        self._base = [
            "ssh",
            *target.ssh_options(),
            "-o",
            "BatchMode=yes",
            "-o",
            "ControlMaster=auto",
            "-o",
            f"ControlPath={self._control.name}/%C",
            "-o",
            "ControlPersist=120",
            f"{target.user}@{target.address}",
        ]

    def __enter__(self) -> Remote:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        subprocess.run([*self._base[:-1], "-O", "exit", self._base[-1]], capture_output=True)
        self._control.cleanup()

    def _command(self, command: str, sudo: bool) -> list[str]:
        if sudo and self.target.user != "root":
            command = f"sudo -n sh -c {shlex.quote(command)}"
        return [*self._base, command]

    def run(
        self,
        command: str,
        *,
        sudo: bool = True,
        check: bool = True,
        input: bytes | None = None,
        what: str | None = None,
    ) -> subprocess.CompletedProcess[bytes]:
        """Run a shell command on the host; on failure raise with its last line of output."""
        result = subprocess.run(self._command(command, sudo), input=input, capture_output=True)
        if check and result.returncode != 0:
            raise OperatorError(
                f"{self.target.name}: {what or command} failed: "
                f"{last_line(result.stderr, result.stdout, result.returncode)}"
            )
        return result

    def stream(self, command: str, *, sudo: bool = True) -> int:
        """Run a command whose output the operator watches live; returns its exit code."""
        return subprocess.run(self._command(command, sudo)).returncode

    def upload(self, files: Iterable[Path], directory: str) -> None:
        """Copy local files into a host directory (one tar stream, owner root)."""
        with tempfile.TemporaryFile() as archive:
            with tarfile.open(fileobj=archive, mode="w") as tar:
                for path in files:
                    tar.add(path, arcname=path.name)
            archive.seek(0)
            command = f"mkdir -p {shlex.quote(directory)} && tar -x --no-same-owner -C {shlex.quote(directory)}"
            result = subprocess.run(
                self._command(command, True), stdin=archive, capture_output=True
            )
        if result.returncode != 0:
            raise OperatorError(
                f"{self.target.name}: upload to {directory} failed: "
                f"{last_line(result.stderr, result.stdout, result.returncode)}"
            )
