"""A repository on another server over SFTP (paramiko), laid out as restic's sftp backend."""

from __future__ import annotations

import os
import posixpath
import stat
import threading
from collections.abc import Iterator

import paramiko

from backup.backends.base import (
    Backend,
    BackendError,
    FileType,
    NotFoundError,
    is_id,
    relative_path,
)


def _serialized(fn):  # noqa: ANN001, ANN202 - internal decorator
    def wrapper(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        with self._mutex:
            return fn(self, *args, **kwargs)

    return wrapper


TEMP_MARK = "-restic-temp-"  # as restic's SFTP backend names them


class SFTPBackend(Backend):
    def __init__(
        self,
        host: str,
        path: str,
        user: str | None = None,
        port: int = 22,
        key_file: str | None = None,
        known_hosts: str | None = None,
        timeout: float = 15.0,
    ) -> None:
        self.host, self.port, self.user = host, port, user
        self.root = path.rstrip("/") or "/"
        self.key_file = key_file
        self.known_hosts = known_hosts
        self.timeout = timeout
        self._ssh: paramiko.SSHClient | None = None
        self._sftp: paramiko.SFTPClient | None = None
        # one SFTP channel, used from the writer's and restorer's threads in turn
        self._mutex = threading.RLock()

    def location(self) -> str:
        user = f"{self.user}@" if self.user else ""
        return f"sftp:{user}{self.host}:{self.port}{self.root}"

    @property
    def sftp(self) -> paramiko.SFTPClient:
        if self._sftp is None:
            ssh = paramiko.SSHClient()
            ssh.load_system_host_keys()
            if self.known_hosts:
                ssh.load_host_keys(self.known_hosts)
            # an unknown server key is refused: the operator pins it in known_hosts
            ssh.set_missing_host_key_policy(paramiko.RejectPolicy())
            ssh.connect(
                self.host,
                port=self.port,
                username=self.user,
                key_filename=self.key_file,
                timeout=self.timeout,
                banner_timeout=self.timeout,
                auth_timeout=self.timeout,
            )
            self._ssh, self._sftp = ssh, ssh.open_sftp()
        return self._sftp

    @_serialized
    def reset(self) -> None:
        """Drop the connection so the next call reconnects (after a transient failure)."""
        self.close()

    def close(self) -> None:
        if self._ssh is not None:
            self._ssh.close()
        self._ssh = self._sftp = None

    def _path(self, ftype: FileType, name: str) -> str:
        return posixpath.join(self.root, relative_path(ftype, name))

    def _mkdirs(self, path: str) -> None:
        parts = []
        while path not in ("", "/"):
            try:
                self.sftp.stat(path)
                break
            except FileNotFoundError:
                parts.append(path)
                path = posixpath.dirname(path)
        for p in reversed(parts):
            self.sftp.mkdir(p, 0o700)

    @_serialized
    def create(self) -> None:
        if self.exists(FileType.CONFIG, "config"):
            raise BackendError(f"{self.location()}: a repository already exists here")
        self._mkdirs(self.root)
        for t in FileType:
            if t is not FileType.CONFIG:
                self._mkdirs(posixpath.join(self.root, t.value))
        for i in range(256):
            self._mkdirs(posixpath.join(self.root, "data", f"{i:02x}"))

    @_serialized
    def save(self, ftype: FileType, name: str, data: bytes) -> None:
        final = self._path(ftype, name)
        tmp = f"{final}{TEMP_MARK}{os.urandom(6).hex()}"
        try:
            f = self.sftp.open(tmp, "wb")
        except FileNotFoundError:
            self._mkdirs(posixpath.dirname(final))
            f = self.sftp.open(tmp, "wb")
        try:
            with f:
                f.set_pipelined(True)
                view = memoryview(data)
                for pos in range(0, len(view), 32768):
                    f.write(view[pos : pos + 32768])
            self.sftp.posix_rename(tmp, final)
        except BaseException:
            # a failed upload (server disk full, connection lost) leaves no temp file if the
            # server can still be told; prune removes the rest
            try:
                self.sftp.remove(tmp)
            except Exception:  # noqa: BLE001 - the original error is the one to report
                pass
            raise
        self.sftp.chmod(final, 0o400)

    @_serialized
    def remove_temp_files(self) -> list[str]:
        removed = []
        for ftype in FileType:
            if ftype is FileType.CONFIG:
                continue
            base = posixpath.join(self.root, ftype.value)
            dirs = [base]
            if ftype is FileType.PACK:
                try:
                    dirs = [posixpath.join(base, n) for n in self.sftp.listdir(base)]
                except FileNotFoundError:
                    continue
            for d in dirs:
                try:
                    names = self.sftp.listdir(d)
                except (FileNotFoundError, OSError):
                    continue
                for n in names:
                    if TEMP_MARK in n:
                        self.sftp.remove(posixpath.join(d, n))
                        removed.append(posixpath.join(d, n))
        return removed

    @_serialized
    def load(self, ftype: FileType, name: str, offset: int = 0, length: int | None = None) -> bytes:
        try:
            with self.sftp.open(self._path(ftype, name), "rb") as f:
                if length is None:
                    if offset:
                        f.seek(offset)
                    f.prefetch()
                    return f.read()
                # readv pipelines the 32 KiB requests; plain read would wait for each in turn
                return b"".join(f.readv([(offset, length)]))
        except FileNotFoundError as e:
            raise NotFoundError(f"{ftype.value}/{name} not found") from e

    def list(self, ftype: FileType) -> Iterator[tuple[str, int]]:
        with self._mutex:
            return iter(list(self._list(ftype)))

    def _list(self, ftype: FileType) -> Iterator[tuple[str, int]]:
        if ftype is FileType.CONFIG:
            try:
                yield "config", self.sftp.stat(self._path(ftype, "config")).st_size or 0
            except FileNotFoundError:
                pass
            return
        base = posixpath.join(self.root, ftype.value)
        dirs = [base]
        if ftype is FileType.PACK:
            try:
                dirs = [
                    posixpath.join(base, a.filename)
                    for a in self.sftp.listdir_attr(base)
                    if stat.S_ISDIR(a.st_mode or 0)
                ]
            except FileNotFoundError:
                return
        for d in sorted(dirs):
            try:
                entries = self.sftp.listdir_attr(d)
            except FileNotFoundError:
                continue
            for a in entries:
                if is_id(a.filename) and stat.S_ISREG(a.st_mode or 0):
                    yield a.filename, a.st_size or 0

    @_serialized
    def remove(self, ftype: FileType, name: str) -> None:
        try:
            self.sftp.remove(self._path(ftype, name))
        except FileNotFoundError as e:
            raise NotFoundError(f"{ftype.value}/{name} not found") from e

    @_serialized
    def exists(self, ftype: FileType, name: str) -> bool:
        try:
            self.sftp.stat(self._path(ftype, name))
            return True
        except FileNotFoundError:
            return False


def transient(e: BaseException) -> bool:
    if isinstance(e, (FileNotFoundError, PermissionError, paramiko.AuthenticationException)):
        return False
    return isinstance(e, (paramiko.SSHException, EOFError, ConnectionError, TimeoutError, OSError))
