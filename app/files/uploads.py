"""Partial resumable uploads on disk: `<root>/uploads/<id>.part` plus `<id>.json` (who, what,
how long, until when). The byte count of the .part file is the upload offset."""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass
class Upload:
    id: str
    user_id: int
    project_id: int
    file_id: int
    length: int
    name: str
    expires: float


class UploadStore:
    def __init__(self, root: Path, expiry_seconds: int) -> None:
        self.root = root
        self.expiry_seconds = expiry_seconds
        root.mkdir(parents=True, exist_ok=True)

    def data_path(self, upload_id: str) -> Path:
        return self.root / f"{upload_id}.part"

    def _meta_path(self, upload_id: str) -> Path:
        return self.root / f"{upload_id}.json"

    def create(self, user_id: int, project_id: int, file_id: int, length: int, name: str) -> Upload:
        upload = Upload(uuid.uuid4().hex, user_id, project_id, file_id, length, name,
                        time.time() + self.expiry_seconds)  # fmt: skip
        self.data_path(upload.id).touch(exist_ok=False)
        self.save(upload)
        return upload

    def save(self, upload: Upload) -> None:
        temp = self.root / f"{upload.id}.json.new"
        temp.write_text(json.dumps(asdict(upload)))
        temp.replace(self._meta_path(upload.id))

    def get(self, upload_id: str) -> Upload | None:
        """None for an unknown or malformed id (never a path outside the store)."""
        if not UPLOAD_ID.match(upload_id):
            return None
        try:
            return Upload(**json.loads(self._meta_path(upload_id).read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def offset(self, upload: Upload) -> int:
        return self.data_path(upload.id).stat().st_size

    def touch(self, upload: Upload) -> None:
        upload.expires = time.time() + self.expiry_seconds
        self.save(upload)

    def remove(self, upload_id: str) -> None:
        self._meta_path(upload_id).unlink(missing_ok=True)
        self.data_path(upload_id).unlink(missing_ok=True)

    def expire(self, now: float | None = None) -> list[str]:
        """Remove uploads past their expiry and leftovers without metadata; returns their ids."""
        now = time.time() if now is None else now
        removed = []
        for path in sorted(self.root.iterdir()):
            upload_id = path.name.split(".")[0]
            if not UPLOAD_ID.match(upload_id) or upload_id in removed:
                continue
            upload = self.get(upload_id)
            if upload is None:
                # metadata never written (crash at creation): old enough to be abandoned?
                if path.stat().st_mtime + self.expiry_seconds < now:
                    self.remove(upload_id)
                    removed.append(upload_id)
            elif upload.expires < now:
                self.remove(upload_id)
                removed.append(upload_id)
        return removed
