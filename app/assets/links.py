"""Signed links to the file service: issued here after the policy check, verified there."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.assets.service import is_approved
from app.authz.check import Target, allowed
from app.authz.guard import project_target, require
from app.authz.policy import Action
from app.core.errors import AppError
from app.core.file_tokens import KeyRing, KeyRingError, issue
from app.core.settings import Settings
from app.models import File, FileVersion, Project, User


class NotConfigured(AppError):
    status_code = 503


def key_ring(settings: Settings) -> KeyRing | None:
    """None while no keys are configured: the app runs, file-service links are unavailable."""
    if not settings.file_token_keys and settings.file_token_keys_file is None:
        return None
    return KeyRing.from_settings(settings.file_token_keys, settings.file_token_keys_file)


@dataclass(frozen=True)
class UploadLink:
    token: str
    upload_url: str
    tus_url: str
    expires_in: int


def upload_link(
    db: Session, settings: Settings, ring: KeyRing | None, user: User, file: File, project: Project
) -> UploadLink:
    require(db, user, Action.FILE_UPLOAD, project_target(project))
    if ring is None:
        raise NotConfigured("the file service is not configured (EYESHOTS_FILE_TOKEN_KEYS)")
    seconds = settings.file_token_seconds
    token = issue(ring, "upload", user.id, project.id, file.id, None, seconds)
    prefix = settings.files_prefix
    return UploadLink(token, f"{prefix}upload/{file.id}", f"{prefix}tus/{file.id}", seconds)


def version_links(
    db: Session,
    settings: Settings,
    ring: KeyRing | None,
    user: User,
    version: FileVersion,
    file: File,
    project: Project,
) -> dict[str, str | None]:
    """view (inline) for everyone who sees the version; download only where the policy allows."""
    if ring is None:
        return {"view_url": None, "download_url": None}
    seconds, prefix = settings.file_token_seconds, settings.files_prefix
    base = f"{prefix}download/{version.id}"
    view = issue(ring, "view", user.id, project.id, file.id, version.id, seconds)
    target = Target(project.id, project.client_org_id, version_approved=is_approved(db, version.id))
    download = None
    if allowed(db, user, Action.FILE_DOWNLOAD, target):
        token = issue(ring, "download", user.id, project.id, file.id, version.id, seconds)
        download = f"{base}?t={token}"
    return {"view_url": f"{base}?inline=1&t={view}", "download_url": download}


__all__ = ["KeyRingError", "UploadLink", "key_ring", "upload_link", "version_links"]
