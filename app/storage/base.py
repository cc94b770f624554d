"""The storage interface: opaque keys in, bytes out. Keys never derive from user filenames."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
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
