"""What every request of the file service needs: the service built once from the settings,
the caller's credentials, the declared sizes, and storing then recording a received file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio.to_thread
from starlette.requests import Request

from app.assets.service import record_version
from app.core.db import make_engine, make_sessionmaker
from app.core.deps import cookie_name
from app.core.errors import Forbidden
from app.core.file_tokens import KeyRing
from app.core.settings import Settings
from app.files import policy
from app.files.errors import Refused, denied, disk_full
from app.files.uploads import UploadStore
from app.models import File, Project, User
from app.storage.base import Storage, StoredObject
from app.storage.factory import storage_from_settings


class Service:
    """Everything a request needs, built once from the settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.ring = KeyRing.from_settings(settings.file_token_keys, settings.file_token_keys_file)
        self.engine = make_engine(settings.effective_database_url)
        self.factory = make_sessionmaker(self.engine)
        self.storage: Storage = storage_from_settings(settings)
        # bodies land on the storage root's filesystem, so finishing one is a rename
        self.temp_dir = settings.storage_dir / "tmp"
        self.temp_dir.mkdir(parents=True, exist_ok=True)
        self.uploads = UploadStore(
            settings.storage_dir / "uploads", settings.files_upload_expiry_hours * 3600
        )

    def check_head(self, head: bytes) -> None:
        policy.media_type(self.settings, head)

    def kind_of(self, head: bytes) -> str:
        return policy.media_type(self.settings, head)


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def session(request: Request) -> str | None:
    return request.cookies.get(cookie_name(request.app.state.service.settings))


def declared_length(request: Request, header: str = "content-length") -> int | None:
    value = request.headers.get(header)
    if value is None:
        return None
    if not value.isdigit():
        raise Refused(400, f"{header} must be a non-negative integer")
    return int(value)


async def record(
    service: Service, grant_user: int, file_id: int, stored: StoredObject, kind: str, name: str
) -> dict[str, Any]:
    """Record the version after the rename, re-checking permission and quota at commit time."""

    def work() -> dict[str, Any]:
        with service.factory.begin() as db:
            user, file = db.get(User, grant_user), db.get(File, file_id)
            if user is None or file is None:
                service.storage.delete(stored.key)
                raise denied()
            project = db.get(Project, file.project_id)
            assert project is not None
            try:
                policy.check_quota(db, service.settings.files_project_quota_bytes, project.id,
                                   stored.size)  # fmt: skip
            except Refused:
                service.storage.delete(stored.key)
                raise
            try:
                version = record_version(db, service.storage, user, file, project, stored, kind,
                                         name)  # fmt: skip
            except Forbidden:
                raise denied() from None
            return {"version_id": version.id, "number": version.number, "size": version.size,
                    "sha256": version.sha256, "content_type": version.content_type}  # fmt: skip

    return await anyio.to_thread.run_sync(work)


def put_file(service: Service, path: Path, sha256: str) -> StoredObject:
    try:
        return service.storage.put_file(path, sha256)
    except OSError as error:
        if error.errno in (28, 122):  # ENOSPC, EDQUOT
            raise disk_full() from None
        raise
