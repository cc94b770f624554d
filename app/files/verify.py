"""Re-hash stored files against the database; find versions without bytes and bytes without a
version (orphans)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import FileVersion
from app.storage.base import Storage


@dataclass(frozen=True)
class Problem:
    kind: str  # missing | mismatch | orphan
    key: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.key} {self.detail}"


def verify(db: Session, storage: Storage) -> Iterator[Problem]:
    known: set[str] = set()
    for version in db.scalars(select(FileVersion).order_by(FileVersion.id)):
        known.add(version.storage_key)
        where = f"(version {version.id}, file {version.file_id})"
        if not storage.exists(version.storage_key):
            yield Problem("missing", version.storage_key, where)
            continue
        digest = hashlib.sha256()
        for chunk in storage.read(version.storage_key, 1 << 20):
            digest.update(chunk)
        if digest.hexdigest() != version.sha256:
            yield Problem("mismatch", version.storage_key,
                          f"{where}: sha256 {digest.hexdigest()} != recorded {version.sha256}")  # fmt: skip
    for key in storage.keys():
        if key not in known:
            yield Problem("orphan", key, f"({storage.size(key)} bytes, no version refers to it)")
