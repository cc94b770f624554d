"""A repository in a local directory, laid out and written the way restic's local backend does."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path

from backup.backends.base import (
    Backend,
    BackendError,
    FileType,
    NotFoundError,
    is_id,
    relative_path,
)

DIR_MODE = 0o700
FILE_MODE = 0o400
TEMP_MARK = "-tmp-"  # restic's local backend names its temp files <name>-tmp-<suffix> too


class LocalBackend(Backend):
    def __init__(self, path: str | os.PathLike) -> None:
        self.root = Path(path)

    def location(self) -> str:
        return str(self.root)

    def create(self) -> None:
        if (self.root / "config").exists():
            raise BackendError(f"{self.root}: a repository already exists here")
        subdirs = [t.value for t in FileType if t is not FileType.CONFIG]
        subdirs += [f"data/{i:02x}" for i in range(256)]
        for sub in subdirs:
            (self.root / sub).mkdir(mode=DIR_MODE, parents=True, exist_ok=True)

    def _path(self, ftype: FileType, name: str) -> Path:
        return self.root / relative_path(ftype, name)

    def save(self, ftype: FileType, name: str, data: bytes) -> None:
        final = self._path(ftype, name)
        tmp = final.with_name(f"{final.name}{TEMP_MARK}{os.getpid()}-{os.urandom(4).hex()}")
        try:
            final.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
            # write, fsync, rename, fsync the directory: a crash never leaves a partial file
            # under its final name (restic's readers reject a file whose hash is not its name)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, final)
            dfd = os.open(final.parent, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
            os.chmod(final, FILE_MODE)
        except BaseException as e:
            # on every way out (disk full, SIGTERM, a bug) no partial temp file stays behind
            try:
                os.unlink(tmp)
            except OSError:
                pass
            if isinstance(e, OSError):
                hint = (
                    " (the disk is full: free space there or prune)"
                    if e.errno == errno.ENOSPC
                    else ""
                )
                raise BackendError(
                    f"repository {self.root}: cannot write {relative_path(ftype, name)}: "
                    f"{e.strerror or e}{hint}"
                ) from e
            raise

    def remove_temp_files(self) -> list[str]:
        """Temp files of runs killed mid-write (kill -9, power loss); only safe to call under
        an exclusive lock, when nobody else can be writing."""
        removed = []
        for dirpath, _, names in os.walk(self.root):
            for n in names:
                if TEMP_MARK in n:
                    path = os.path.join(dirpath, n)
                    try:
                        os.unlink(path)
                    except FileNotFoundError:
                        continue
                    removed.append(os.path.relpath(path, self.root))
        return removed

    def load(self, ftype: FileType, name: str, offset: int = 0, length: int | None = None) -> bytes:
        try:
            with open(self._path(ftype, name), "rb") as f:
                if offset < 0:
                    f.seek(offset, os.SEEK_END)
                elif offset:
                    f.seek(offset)
                return f.read() if length is None else f.read(length)
        except FileNotFoundError as e:
            raise NotFoundError(f"{ftype.value}/{name} not found") from e

    def list(self, ftype: FileType) -> Iterator[tuple[str, int]]:
        if ftype is FileType.CONFIG:
            if (self.root / "config").exists():
                yield "config", (self.root / "config").stat().st_size
            return
        base = self.root / ftype.value
        dirs = [base]
        if ftype is FileType.PACK:
            dirs = sorted(p for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
        for d in dirs:
            try:
                entries = list(os.scandir(d))
            except FileNotFoundError:
                continue
            for entry in entries:
                if is_id(entry.name) and entry.is_file(follow_symlinks=False):
                    yield entry.name, entry.stat().st_size

    def remove(self, ftype: FileType, name: str) -> None:
        try:
            os.unlink(self._path(ftype, name))
        except FileNotFoundError as e:
            raise NotFoundError(f"{ftype.value}/{name} not found") from e

    def exists(self, ftype: FileType, name: str) -> bool:
        return self._path(ftype, name).exists()
