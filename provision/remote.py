"""The one remote layer: every operator command that acts on hosts over SSH (deploy shipping,
rollback, releases, status, logs, admin-password) goes through here, on Fabric.

One Fabric Connection per host, reused for the whole command; many hosts at once in a thread
group with a result or a one-line failure per host. The operator's ~/.ssh/config is honoured
(Fabric reads it: ProxyJump, ...). Host keys are verified, never added: against the sandbox's
known_hosts, else the ssh_config's UserKnownHostsFile, else ~/.ssh/known_hosts (Fabric itself
would accept any key: it sets AutoAddPolicy and loads none)."""

from __future__ import annotations

import io
import shlex
import tarfile
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Generic, TypeVar

import click
import paramiko
from fabric import Config, Connection

from provision.errors import OperatorError
from provision.runner import Target
from provision.shell import last_line

CONNECT_TIMEOUT = 10
T = TypeVar("T")


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


class Remote:
    """Commands on one inventory host over one SSH connection."""

    def __init__(self, target: Target) -> None:
        self.target = target
        config = Config(overrides={"run": {"in_stream": False}})
        self.connection = Connection(
            target.address,
            user=target.user,
            port=target.port,
            config=config,
            connect_timeout=CONNECT_TIMEOUT,
            connect_kwargs={"key_filename": [str(target.key)], "look_for_keys": False},
        )
        self.known_hosts = self._known_hosts()
        client = self.connection.client
        if self.known_hosts.is_file():
            client.load_system_host_keys(str(self.known_hosts))
        client.set_missing_host_key_policy(paramiko.RejectPolicy())

    def _known_hosts(self) -> Path:
        if self.target.known_hosts:
            return self.target.known_hosts
        configured = self.connection.ssh_config.get("userknownhostsfile", "")
        first = configured.split()[0] if configured else "~/.ssh/known_hosts"
        return Path(first).expanduser()

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
        self.connection.close()

    def _command(self, command: str, sudo: bool) -> str:
        if sudo and self.target.user != "root":
            return f"sudo -n sh -c {shlex.quote(command)}"
        return command

    def _do(self, action: Callable[[], T]) -> T:
        """Run a Fabric action; connection failures become one line naming the host."""
        where = f"{self.target.name} ({self.target.address}:{self.target.port})"
        try:
            return action()
        except paramiko.BadHostKeyException:
            raise OperatorError(
                f"{where}: its host key differs from the one in {self.known_hosts}: the server "
                "was rebuilt or someone is in between; verify it before replacing the entry"
            ) from None
        except paramiko.AuthenticationException:
            raise OperatorError(
                f"{where}: {self.target.user} was refused with key {self.target.key}; check "
                "ansible_user and the key in the inventory"
            ) from None
        except paramiko.SSHException as error:
            if "not found in known_hosts" in str(error):
                raise OperatorError(
                    f"{where}: its host key is not in {self.known_hosts}; check the server's "
                    "fingerprint, then add it (ssh-keyscan, or one `ssh` to it)"
                ) from None
            raise OperatorError(f"{where}: SSH failed: {error}") from None
        except OSError as error:  # refused, timed out, no route
            raise OperatorError(f"{where}: unreachable over SSH: {error}") from None

    def run(
        self,
        command: str,
        *,
        sudo: bool = True,
        check: bool = True,
        input: str | None = None,
        what: str | None = None,
    ) -> Result:
        """Run a shell command on the host; on failure raise with its last line of output."""
        stream: object = False if input is None else io.StringIO(input)
        found = self._do(
            lambda: self.connection.run(
                self._command(command, sudo), hide=True, warn=True, in_stream=stream
            )
        )
        result = Result(found.exited, found.stdout, found.stderr)
        if check and result.returncode != 0:
            detail = last_line(result.stderr, result.stdout, result.returncode)
            raise OperatorError(f"{self.target.name}: {what or command} failed: {detail}")
        return result

    def stream(self, command: str, *, sudo: bool = True) -> int:
        """Run a command whose output the operator watches live; returns its exit code."""
        found = self._do(
            lambda: self.connection.run(self._command(command, sudo), hide=False, warn=True)
        )
        return found.exited

    def upload(self, files: Iterable[Path], directory: str) -> None:
        """Copy local files into a host directory (one tar archive over SFTP, owner root)."""
        with tempfile.NamedTemporaryFile(suffix=".tar") as archive:
            with tarfile.open(fileobj=archive, mode="w") as tar:
                for path in files:
                    tar.add(path, arcname=path.name)
            archive.flush()
            staged = f"/tmp/eyeshots-upload-{Path(archive.name).stem}.tar"
            self._do(lambda: self.connection.put(archive.name, remote=staged))
        target = shlex.quote(directory)
        self.run(
            f"mkdir -p {target} && tar -x --no-same-owner -f {staged} -C {target}; "
            f"code=$?; rm -f {staged}; exit $code",
            what=f"upload to {directory}",
        )


@dataclass
class HostResults(Generic[T]):
    """What a command did on each host: a result, or the one-line failure."""

    results: dict[str, T] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    def raise_for_failures(self) -> None:
        """After the results are shown: each failure on its own line, one exit naming them."""
        for message in self.failures.values():
            click.echo(f"eyeshots: error: {message}", err=True)
        if self.failures:
            names = ", ".join(sorted(self.failures))
            raise OperatorError(f"failed on {len(self.failures)} host(s): {names}", exit_code=1)


def on_each(targets: list[Target], work: Callable[[Remote], T]) -> HostResults[T]:
    """`work` on every host at once, each with its own connection, in inventory order."""

    def one(target: Target) -> T:
        with Remote(target) as remote:
            return work(remote)

    found: HostResults[T] = HostResults()
    with ThreadPoolExecutor(max_workers=max(1, min(16, len(targets)))) as pool:
        futures = {t.name: pool.submit(one, t) for t in targets}
    for name, future in futures.items():
        try:
            found.results[name] = future.result()
        except OperatorError as error:
            message = str(error)
            found.failures[name] = message if message.startswith(name) else f"{name}: {message}"
    return found
