"""Token plus database: may this user still do what the token says? Runs in a worker thread.

A token is a bearer credential for its user (API clients, `<video src>`); when the request also
carries the app's session cookie (a browser on the same origin), it must be that user's."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from app.assets.service import is_approved
from app.auth.service import resolve_session
from app.authz.check import Target, allowed
from app.authz.guard import project_target
from app.authz.policy import Action
from app.core.file_tokens import FileGrant, KeyRing, TokenError, check
from app.files import policy
from app.files.errors import Refused, denied
from app.models import File, FileVersion, Project, User


@dataclass(frozen=True)
class Download:
    key: str
    name: str
    content_type: str


def grant_of(ring: KeyRing, token: str | None, action: str) -> FileGrant:
    if not token:
        raise Refused(401, "no token: send the link the app gave you (Authorization: Bearer)")
    try:
        grant = check(ring, token)
    except (TokenError, ValueError):
        raise denied() from None
    if grant.action != action:
        raise denied()
    return grant


def _load(db: Session, grant: FileGrant, session: str | None) -> tuple[User, File, Project]:
    # a browser signed in as someone else does not get to use this user's link
    if session:
        found = resolve_session(db, session)
        if found is not None and found[0].id != grant.user_id:
            raise denied()
    user = db.get(User, grant.user_id)
    file = db.get(File, grant.file_id)
    if user is None or file is None or file.project_id != grant.project_id:
        raise denied()
    project = db.get(Project, file.project_id)
    if project is None:
        raise denied()
    return user, file, project


def check_upload(
    factory: sessionmaker[Session],
    grant: FileGrant,
    file_id: int,
    length: int,
    quota: int,
    session: str | None = None,
) -> None:
    """The user may still upload to this file, and `length` more bytes fit the quota."""
    if grant.file_id != file_id:
        raise denied()
    with factory() as db:
        user, _, project = _load(db, grant, session)
        if not allowed(db, user, Action.FILE_UPLOAD, project_target(project)):
            raise denied()
        policy.check_quota(db, quota, project.id, length)


def check_download(
    factory: sessionmaker[Session],
    grant: FileGrant,
    version_id: int,
    inline: bool,
    session: str | None = None,
) -> Download:
    if grant.version_id != version_id:
        raise denied()
    with factory() as db:
        user, file, project = _load(db, grant, session)
        version = db.get(FileVersion, version_id)
        if version is None or version.file_id != file.id:
            raise denied()
        target = project_target(project)
        if not allowed(db, user, Action.PROJECT_READ, target):
            raise denied()
        if not inline:
            target = Target(project.id, project.client_org_id,
                            version_approved=is_approved(db, version.id))  # fmt: skip
            if not allowed(db, user, Action.FILE_DOWNLOAD, target):
                raise Refused(403, "this version is not approved for download yet")
        return Download(version.storage_key, version.original_name, version.content_type)
