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


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "tmp").mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        if not KEY.match(key):
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key[:2] / key[2:4] / key

    def put(self, chunks: Iterable[bytes]) -> StoredObject:
        key = uuid.uuid4().hex
        temp = self.root / "tmp" / f"{key}.part"
        digest, size = hashlib.sha256(), 0
        try:
            with open(temp, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            final = self.path(key)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temp, final)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return StoredObject(key=key, size=size, sha256=digest.hexdigest())

    def read(self, key: str, chunk_size: int = 1 << 16) -> Iterator[bytes]:
        with open(self.path(key), "rb") as source:
            while chunk := source.read(chunk_size):
                yield chunk

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)
