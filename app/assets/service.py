"""Files of a project and their immutable versions."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.assets.media import MediaInfo, probe
from app.authz.guard import project_target, require, visible_project
from app.authz.policy import Action
from app.core.errors import Conflict, Invalid, NotFound, Rejected
from app.core.settings import Settings
from app.events import service as events
from app.files import policy
from app.files.errors import Refused
from app.files.sniff import SNIFF_BYTES
from app.models import Decision, DecisionKind, File, FileKind, FileVersion, Project, User
from app.storage import LocalStorage, Storage, StoredObject

CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")


def visible_file(db: Session, user: User, file_id: int) -> tuple[File, Project]:
    file = db.get(File, file_id)
    if file is None:
        raise NotFound("No such file")
    try:
        project = visible_project(db, user, file.project_id)
    except NotFound:
        raise NotFound("No such file") from None
    return file, project


def visible_version(db: Session, user: User, version_id: int) -> tuple[FileVersion, File, Project]:
    version = db.get(FileVersion, version_id)
    if version is None:
        raise NotFound("No such version")
    try:
        file, project = visible_file(db, user, version.file_id)
    except NotFound:
        raise NotFound("No such version") from None
    return version, file, project


def files_of(db: Session, project_id: int) -> list[File]:
    return list(db.scalars(select(File).where(File.project_id == project_id).order_by(File.id)))


def versions_of(db: Session, file_id: int) -> list[FileVersion]:
    stmt = select(FileVersion).where(FileVersion.file_id == file_id).order_by(FileVersion.number)
    return list(db.scalars(stmt))


def create_file(db: Session, user: User, project: Project, title: str, kind: FileKind) -> File:
    require(db, user, Action.FILE_UPLOAD, project_target(project))
    title = title.strip()
    if not title:
        raise Invalid("Enter a title", field="title")
    file = File(project_id=project.id, title=title[:300], kind=kind, created_by=user.id)
    db.add(file)
    db.flush()
    events.record(db, "file.created", project.id, user, {"file_id": file.id, "title": file.title})
    return file


def clean_content_type(content_type: str) -> str:
    content_type = (content_type or "application/octet-stream").split(";")[0].strip().lower()
    if not CONTENT_TYPE.match(content_type):
        raise Invalid("is not a valid content type", field="content_type")
    return content_type


def display_name(original_name: str) -> str:
    # display only: the storage key is random, so the name never reaches the filesystem
    return re.sub(r"[\x00-\x1f\x7f/\\]", "_", original_name).strip()[:300] or "upload"


def add_version(
    db: Session,
    storage: Storage,
    user: User,
    file: File,
    project: Project,
    chunks: Iterable[bytes],
    content_type: str,
    original_name: str,
    *,
    settings: Settings,
) -> FileVersion:
    """A small upload through the app, under the file service's upload policy: the kind is
    what the bytes show (the claimed `content_type` only has to be well-formed)."""
    require(db, user, Action.FILE_UPLOAD, project_target(project))
    clean_content_type(content_type)
    stored = storage.put(chunks)
    try:
        policy.check_size(settings, stored.size)
        kind = policy.media_type(settings, next(iter(storage.read(stored.key)), b"")[:SNIFF_BYTES])
        policy.check_quota(db, settings.files_project_quota_bytes, project.id, stored.size)
    except Refused as refusal:
        storage.delete(stored.key)
        raise Rejected(refusal.status, refusal.message) from None
    return record_version(db, storage, user, file, project, stored, kind, original_name)


def record_version(
    db: Session,
    storage: Storage,
    user: User,
    file: File,
    project: Project,
    stored: StoredObject,
    content_type: str,
    original_name: str,
) -> FileVersion:
    """Number and record bytes already in storage; on refusal the stored object is deleted,
    so nothing unreferenced stays behind."""
    try:
        require(db, user, Action.FILE_UPLOAD, project_target(project))
        content_type = clean_content_type(content_type)
    except Exception:
        storage.delete(stored.key)
        raise
    # before numbering: the database is only read while ffprobe runs
    media = probe_stored(storage, stored.key, content_type)
    number = (
        db.scalar(select(func.max(FileVersion.number)).where(FileVersion.file_id == file.id)) or 0
    ) + 1
    version = FileVersion(
        file_id=file.id,
        number=number,
        uploaded_by=user.id,
        size=stored.size,
        sha256=stored.sha256,
        storage_key=stored.key,
        content_type=content_type,
        original_name=display_name(original_name),
        width=media.width,
        height=media.height,
        frame_rate_num=media.frame_rate.numerator if media.frame_rate else None,
        frame_rate_den=media.frame_rate.denominator if media.frame_rate else None,
        duration=media.duration,
    )
    try:
        with db.begin_nested():
            db.add(version)
    except IntegrityError:
        storage.delete(stored.key)
        raise Conflict("Another version was uploaded at the same moment; try again") from None
    events.record(
        db,
        "version.created",
        project.id,
        user,
        {"file_id": file.id, "version_id": version.id, "number": number},
    )
    return version


def probe_stored(storage: Storage, key: str, content_type: str) -> MediaInfo:
    """ffprobe reads local files in place and objects in a bucket through a short presigned GET
    (with Range, so only the headers it needs travel)."""
    if not content_type.startswith(("image/", "video/")):
        return MediaInfo()
    if isinstance(storage, LocalStorage):
        return probe(str(storage.path(key)), content_type)
    url = storage.download_url(key, "probe", content_type, 300)
    return probe(url, content_type) if url else MediaInfo()


def latest_versions(db: Session, file_ids: list[int]) -> dict[int, FileVersion]:
    """The newest version of each file that has one (one query for a whole list)."""
    if not file_ids:
        return {}
    newest = (
        select(FileVersion.file_id, func.max(FileVersion.number).label("number"))
        .where(FileVersion.file_id.in_(file_ids))
        .group_by(FileVersion.file_id)
        .subquery()
    )
    stmt = select(FileVersion).join(
        newest, (newest.c.file_id == FileVersion.file_id) & (newest.c.number == FileVersion.number)
    )
    return {v.file_id: v for v in db.scalars(stmt)}


def project_usage(db: Session, project_id: int) -> int:
    """Bytes of all versions of the project's files (what the quota counts)."""
    stmt = (
        select(func.coalesce(func.sum(FileVersion.size), 0))
        .join(File, File.id == FileVersion.file_id)
        .where(File.project_id == project_id)
    )
    return int(db.scalar(stmt) or 0)


def is_approved(db: Session, version_id: int) -> bool:
    stmt = select(Decision.id).where(
        Decision.version_id == version_id, Decision.decision == DecisionKind.APPROVED
    )
    return db.scalar(stmt.limit(1)) is not None
