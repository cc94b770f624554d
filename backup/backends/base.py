"""The backend contract and restic's default file layout."""

from __future__ import annotations

import abc
from collections.abc import Iterator
from enum import StrEnum


class FileType(StrEnum):
    CONFIG = "config"
    KEY = "keys"
    LOCK = "locks"
    SNAPSHOT = "snapshots"
    INDEX = "index"
    PACK = "data"


class BackendError(Exception):
    """A backend operation failed for good (after retries, or for a permanent reason)."""


class NotFoundError(BackendError):
    """The named file does not exist."""


def relative_path(ftype: FileType, name: str) -> str:
    """restic's default layout: config at the top, packs fanned out by the first two hex chars."""
    if ftype is FileType.CONFIG:
        return "config"
    if ftype is FileType.PACK:
        return f"data/{name[:2]}/{name}"
    return f"{ftype.value}/{name}"


def is_id(name: str) -> bool:
    """Temp files and foreign junk never parse as a 64-hex ID, so listings ignore them."""
    return len(name) == 64 and all(c in "0123456789abcdef" for c in name)


class Backend(abc.ABC):
    """Write-once, named-by-hash file storage. Implementations must make saves atomic."""

    @abc.abstractmethod
    def location(self) -> str: ...

    @abc.abstractmethod
    def create(self) -> None:
        """Prepare an empty repository location; fail if a config already exists."""

    @abc.abstractmethod
    def save(self, ftype: FileType, name: str, data: bytes) -> None: ...

    @abc.abstractmethod
    def load(self, ftype: FileType, name: str, offset: int = 0, length: int | None = None) -> bytes:
        """Read the whole file, or `length` bytes from `offset`; NotFoundError if absent."""

    @abc.abstractmethod
    def list(self, ftype: FileType) -> Iterator[tuple[str, int]]:
        """(name, size) of every file of the type whose name is a repository ID."""

    @abc.abstractmethod
    def remove(self, ftype: FileType, name: str) -> None: ...

    @abc.abstractmethod
    def exists(self, ftype: FileType, name: str) -> bool: ...

    def remove_temp_files(self) -> list[str]:
        """Remove temp files left by interrupted saves (under an exclusive lock); backends
        whose saves leave none (S3 uploads are atomic) have nothing to do."""
        return []

    def close(self) -> None:  # noqa: B027 - optional hook
        pass
