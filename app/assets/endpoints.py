"""JSON API for files and versions. Small uploads only: big ones belong to the file service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import FileResponse, Response, StreamingResponse

from app.assets import links, service
from app.assets.schemas import FileDetail, FileIn, FileOut, VersionOut
from app.authz.check import Target, allowed
from app.authz.guard import visible_project
from app.authz.policy import Action
from app.core.deps import DB, CurrentUser
from app.core.errors import NotFound
from app.core.schemas import IdPath
from app.storage import LocalStorage

router = APIRouter(tags=["files"])


async def raw_body(request: Request) -> bytes:
    # read in the event loop; the app-wide body limit answers 413 past the maximum
    return await request.body()


@router.get("/projects/{project_id}/files", response_model=list[FileOut])
def list_files(project_id: IdPath, user: CurrentUser, db: DB) -> list[FileOut]:
    visible_project(db, user, project_id)
    return [FileOut.model_validate(f) for f in service.files_of(db, project_id)]


@router.post("/projects/{project_id}/files", response_model=FileOut, status_code=201)
def create_file(project_id: IdPath, body: FileIn, user: CurrentUser, db: DB) -> FileOut:
    project = visible_project(db, user, project_id)
    return FileOut.model_validate(service.create_file(db, user, project, body.title, body.kind))


@router.get("/files/{file_id}", response_model=FileDetail)
def get_file(file_id: IdPath, user: CurrentUser, db: DB) -> FileDetail:
    file, _ = service.visible_file(db, user, file_id)
    versions = [VersionOut.model_validate(v) for v in service.versions_of(db, file.id)]
    return FileDetail.model_validate(
        {**FileOut.model_validate(file).model_dump(), "versions": versions}
    )


@router.post(
    "/files/{file_id}/versions",
    response_model=VersionOut,
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
def upload_version(
    file_id: IdPath,
    request: Request,
    user: CurrentUser,
    db: DB,
    body: Annotated[bytes, Depends(raw_body)],
    content_type: Annotated[str, Header()] = "application/octet-stream",
    x_filename: Annotated[str, Header(max_length=300)] = "upload",
) -> VersionOut:
    file, project = service.visible_file(db, user, file_id)
    version = service.add_version(
        db,
        request.app.state.storage,
        user,
        file,
        project,
        [body],
        content_type,
        x_filename,
        settings=request.app.state.settings,
    )
    return VersionOut.model_validate(version)


# what browsers show in a page; any other kind is a download, and downloads follow the policy
PREVIEWABLE = ("image/", "video/", "audio/", "application/pdf")


@router.get("/versions/{version_id}/content")
def version_content(version_id: IdPath, request: Request, user: CurrentUser, db: DB) -> Response:
    """The version's bytes for the page's preview (inline). A kind with no preview would be a
    download, so it needs `file.download` — for a client, an approved version."""
    version, _, project = service.visible_version(db, user, version_id)
    if not version.content_type.startswith(PREVIEWABLE):
        target = Target(project.id, project.client_org_id,
                        version_approved=service.is_approved(db, version.id))  # fmt: skip
        if not allowed(db, user, Action.FILE_DOWNLOAD, target):
            raise NotFound("No such version")
    storage = request.app.state.storage
    headers = {
        "Content-Disposition": "inline",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; media-src 'self'; sandbox",
        "Cache-Control": "private, max-age=3600",
    }
    if isinstance(storage, LocalStorage):
        # answers Range (206), so a player seeks without downloading what comes before
        return FileResponse(
            storage.path(version.storage_key), media_type=version.content_type, headers=headers
        )
    return StreamingResponse(
        storage.read(version.storage_key),
        media_type=version.content_type,
        headers={"Content-Length": str(version.size), **headers},
    )


@router.post("/files/{file_id}/upload-link")
def upload_link(file_id: IdPath, request: Request, user: CurrentUser, db: DB) -> dict[str, object]:
    """A short-lived token for the file service (streaming PUT or tus) for this file."""
    file, project = service.visible_file(db, user, file_id)
    state = request.app.state
    link = links.upload_link(db, state.settings, state.file_keys, user, file, project)
    return {"token": link.token, "upload_url": link.upload_url, "tus_url": link.tus_url,
            "expires_in": link.expires_in}  # fmt: skip


@router.get("/versions/{version_id}/links")
def version_links(
    version_id: IdPath, request: Request, user: CurrentUser, db: DB
) -> dict[str, str | None]:
    """Signed file-service URLs: view (inline) and, where allowed, download."""
    version, file, project = service.visible_version(db, user, version_id)
    state = request.app.state
    return links.version_links(db, state.settings, state.file_keys, user, version, file, project)
