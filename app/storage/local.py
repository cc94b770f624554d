"""Local-disk storage: write to a temp file in the same filesystem, fsync, rename into place."""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

from app.storage.base import StoredObject

KEY = re.compile(r"^[0-9a-f]{32}$")
HEX2 = re.compile(r"^[0-9a-f]{2}$")


def _fsync_dir(path: Path) -> None:
    # the rename itself survives a crash only once its directory is on disk
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "tmp").mkdir(parents=True, exist_ok=True)

    @property
    def temp_dir(self) -> Path:
        """Same filesystem as the keys, so a finished temp file is renamed, never copied."""
        return self.root / "tmp"

    def path(self, key: str) -> Path:
        if not KEY.match(key):
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key[:2] / key[2:4] / key

    def new_temp(self) -> Path:
        return self.temp_dir / f"{uuid.uuid4().hex}.part"

    def put(self, chunks: Iterable[bytes]) -> StoredObject:
        temp = self.new_temp()
        digest, size = hashlib.sha256(), 0
        try:
            with open(temp, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            return self.put_file(temp, digest.hexdigest())
        except BaseException:
            temp.unlink(missing_ok=True)
            raise

    def put_file(self, path: Path, sha256: str) -> StoredObject:
        """Rename an fsynced file from this filesystem into place under a new key."""
        key = uuid.uuid4().hex
        final = self.path(key)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            size = path.stat().st_size
            os.replace(path, final)
            _fsync_dir(final.parent)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return StoredObject(key=key, size=size, sha256=sha256)

    def read(self, key: str, chunk_size: int = 1 << 16) -> Iterator[bytes]:
        with open(self.path(key), "rb") as source:
            while chunk := source.read(chunk_size):
                yield chunk

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def download_url(
        self, key: str, filename: str, content_type: str, expires_seconds: int
    ) -> str | None:
        return None

    def internal_path(self, key: str) -> str | None:
        return str(self.path(key).relative_to(self.root))

    def keys(self) -> Iterator[str]:
        for first in sorted(self.root.iterdir()):
            if not (first.is_dir() and HEX2.match(first.name)):
                continue
            for second in sorted(first.iterdir()):
                if not (second.is_dir() and HEX2.match(second.name)):
                    continue
                for entry in sorted(second.iterdir()):
                    if KEY.match(entry.name) and entry.name[:4] == first.name + second.name:
                        yield entry.name

    def size(self, key: str) -> int:
        return self.path(key).stat().st_size
