"""The upload policy — kinds, sizes, quotas — for every way bytes come in: the file service's
streaming and resumable uploads, and the app's small-upload route and forms. One owner, so a
kind the file service refuses is refused by the app too."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.core.settings import Settings
from app.files.errors import Refused, over_quota, too_large
from app.files.sniff import sniff


def media_type(settings: Settings, head: bytes) -> str:
    """The kind the first bytes show (the client's claim and the name are not trusted)."""
    kind = sniff(head)
    if kind is None or kind not in settings.allowed_types:
        allowed = ", ".join(sorted(settings.allowed_types))
        raise Refused(415, f"this kind of file is not accepted (allowed: {allowed})")
    return kind


def check_size(settings: Settings, length: int) -> None:
    if length > settings.files_max_upload_bytes:
        raise too_large(settings.files_max_upload_bytes)


def check_quota(db: Session, quota: int, project_id: int, length: int) -> None:
    """`length` more bytes fit the project's quota (files_project_quota_bytes; 0 is none)."""
    from app.assets.service import project_usage

    if quota and project_usage(db, project_id) + length > quota:
        raise over_quota(quota)
