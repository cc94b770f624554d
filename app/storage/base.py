"""The storage interface: opaque keys in, bytes out. Keys never derive from user filenames."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    sha256: str


class Storage(Protocol):
    def put(self, chunks: Iterable[bytes]) -> StoredObject:
        """Store the bytes under a new key; visible only once complete."""
        ...

    def read(self, key: str, chunk_size: int = 1 << 16) -> Iterator[bytes]: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def put_file(self, path: Path, sha256: str) -> StoredObject:
        """Store an assembled local file (a finished resumable upload) under a new key; the
        file is consumed."""
        ...

    def download_url(
        self, key: str, filename: str, content_type: str, expires_seconds: int
    ) -> str | None:
        """A URL the client may fetch directly (presigned), or None: the file service answers
        with X-Accel-Redirect to internal_path() instead."""
        ...

    def internal_path(self, key: str) -> str | None:
        """The key's path relative to the storage root, for nginx's internal location."""
        ...

    def keys(self) -> Iterator[str]:
        """Every stored key (for orphan detection)."""
        ...

    def size(self, key: str) -> int: ...
